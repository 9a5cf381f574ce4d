//! What looks like personal data, for `mask check`: e-mail addresses, phone numbers, card and
//! IBAN numbers (checksums verified, so order numbers and amounts do not count), GeoJSON points,
//! and strings in fields that hold people's names. Pure code.

use bson::RawBsonRef;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Email,
    Phone,
    CardNumber,
    Iban,
    GeoPoint,
    PersonName,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Email => "e-mail addresses",
            Kind::Phone => "phone numbers",
            Kind::CardNumber => "card numbers",
            Kind::Iban => "IBANs",
            Kind::GeoPoint => "GeoJSON points",
            Kind::PersonName => "people's names",
        }
    }
}

/// Field names that hold a person's name wherever they are.
const NAME_FIELDS: [&str; 16] = [
    "firstname",
    "lastname",
    "fullname",
    "givenname",
    "familyname",
    "middlename",
    "surname",
    "first_name",
    "last_name",
    "full_name",
    "contactname",
    "customername",
    "recipientname",
    "displayname",
    "ownername",
    "holdername",
];

/// Collections whose plain `name` is a person's (users, customers, couriers, ...).
const PEOPLE: [&str; 12] = [
    "user", "customer", "member", "profile", "contact", "employee", "courier", "driver", "person",
    "people", "client", "staff",
];

pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn is_phone(s: &str) -> bool {
    let t = s.trim();
    if is_ipv4(t) {
        return false;
    }
    if !t.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return false;
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let international = t.starts_with('+') || t.starts_with("00");
    let separated = t.chars().any(|c| " -().".contains(c));
    (international && (8..=15).contains(&digits)) || (separated && (9..=15).contains(&digits))
}

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut x = u32::from(*d);
        if i % 2 == 1 {
            x *= 2;
            if x > 9 {
                x -= 9;
            }
        }
        sum += x;
    }
    sum % 10 == 0
}

pub fn is_card_number(s: &str) -> bool {
    if !s.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') {
        return false;
    }
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    (13..=19).contains(&digits.len()) && digits.iter().any(|d| *d != 0) && luhn(&digits)
}

pub fn is_iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| *c != ' ').collect();
    let b = compact.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    // ISO 13616: move the first four characters to the end, letters as 10..35, mod 97 == 1.
    let mut rem: u32 = 0;
    for c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c.to_ascii_uppercase() - b'A') + 10
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

fn is_geo_point(v: RawBsonRef<'_>) -> bool {
    let RawBsonRef::Document(d) = v else { return false };
    let point = d.get_str("type").is_ok_and(|t| t == "Point");
    let coords = d.get_array("coordinates").ok().map(|a| a.into_iter().flatten().count());
    point && coords == Some(2)
}

/// What a value at `field` (its last path segment) of `collection` looks like, if personal.
pub fn classify(collection: &str, field: &str, v: RawBsonRef<'_>) -> Option<Kind> {
    if is_geo_point(v) {
        return Some(Kind::GeoPoint);
    }
    let RawBsonRef::String(s) = v else { return None };
    if is_email(s) {
        Some(Kind::Email)
    } else if is_iban(s) {
        Some(Kind::Iban)
    } else if is_card_number(s) {
        Some(Kind::CardNumber)
    } else if is_phone(s) {
        Some(Kind::Phone)
    } else if is_name_field(collection, field) && !s.trim().is_empty() {
        Some(Kind::PersonName)
    } else {
        None
    }
}

fn is_name_field(collection: &str, field: &str) -> bool {
    let f = field.to_lowercase();
    let c = collection.to_lowercase();
    NAME_FIELDS.contains(&f.as_str()) || (f == "name" && PEOPLE.iter().any(|p| c.contains(p)))
}

/// Four groups of one to three digits, each at most 255, separated by dots.
pub fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|c| c.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_personal_data_and_not_lookalikes() {
        assert!(is_email("user1@daraa.example"));
        assert!(!is_email("not an @email.com") && !is_email("a@b") && !is_email("@x.com"));
        assert!(
            is_phone("+963912345678")
                && is_phone("(011) 555-1234 567")
                && is_phone("0096391234567")
        );
        assert!(!is_phone("12345678") && !is_phone("TX-00000001") && !is_phone("+12"));
        // IPv4 addresses have dotted digits, as some phone numbers do: they are not phones.
        assert!(!is_phone("192.168.100.200") && !is_phone("10.0.12.200"));
        assert!(is_card_number("4111 1111 1111 1111") && !is_card_number("4111 1111 1111 1112"));
        assert!(is_iban("DE89 3704 0044 0532 0130 00") && !is_iban("DE89 3704 0044 0532 0130 01"));
        let point = bson::rawdoc! {"type": "Point", "coordinates": [36.2, 32.6]};
        assert_eq!(
            classify("stores", "location", RawBsonRef::Document(&point)),
            Some(Kind::GeoPoint)
        );
        assert_eq!(classify("users", "name", RawBsonRef::String("User 7")), Some(Kind::PersonName));
        assert_eq!(classify("products", "name", RawBsonRef::String("Product 7")), None);
        assert_eq!(
            classify("orders", "customerName", RawBsonRef::String("Dina")),
            Some(Kind::PersonName)
        );
        assert_eq!(classify("orders", "status", RawBsonRef::String("delivered")), None);
    }

    /// The edges of each detector (cargo-mutants judged this module against its unit tests).
    #[test]
    fn each_detector_holds_at_its_edges() {
        // e-mail: 254 characters at most, one @, a dotted domain, no blanks or controls.
        let long = |n: usize| format!("{}@daraa.example", "a".repeat(n - "@daraa.example".len()));
        assert!(is_email(&long(254)) && !is_email(&long(255)));
        assert!(!is_email("a@b@c.de") && !is_email("a@.c.de") && !is_email("a@c.de."));
        assert!(!is_email("a b@c.de") && !is_email("a\u{7}b@c.de") && !is_email("abc.de"));
        // phones: international 8 to 15 digits; separated 9 to 15; nothing but + - ( ) . and blanks.
        assert!(is_phone("+12345678") && !is_phone("+1234567"));
        assert!(is_phone("+123456789012345") && !is_phone("+1234567890123456"));
        assert!(is_phone("0012345678") && !is_phone("0012345"));
        assert!(is_phone("123 456 789") && !is_phone("1234 5678") && !is_phone("123456789"));
        assert!(is_phone("123-456-789-012-345") && !is_phone("123-456-789-012-3456"));
        assert!(!is_phone("+12345678x") && is_phone("  +12345678  "));
        assert!(is_phone("256.100.100.100"), "not an IPv4 address: 256 is over 255");
        // IPv4: four groups of one to three digits, each at most 255.
        assert!(is_ipv4("0.0.0.0") && is_ipv4("255.255.255.255") && is_ipv4("01.2.3.4"));
        assert!(!is_ipv4("256.1.1.1") && !is_ipv4("1.2.3") && !is_ipv4("1.2.3.4.5"));
        assert!(!is_ipv4("1234.1.1.1") && !is_ipv4("1..1.1") && !is_ipv4("a.1.1.1"));
        // cards: 13 to 19 digits passing Luhn, not all zeros.
        assert!(is_card_number("4111111111119") && !is_card_number("411111111117"));
        assert!(is_card_number("4111111111111111110") && !is_card_number("41111111111111111115"));
        assert!(is_card_number("5555-5555-5555-4444") && !is_card_number("5555555555554445"));
        assert!(!is_card_number("0000 0000 0000 0000") && !is_card_number("4111.1111.1111.1111"));
        // Doubled digits over 4 (8 doubled is 16, counted 7): Visa's test number.
        assert!(is_card_number("4012 8888 8888 1881") && !is_card_number("4012 8888 8888 1882"));
        // IBANs: 15 to 34 characters, two capitals, two digits, mod 97 == 1.
        assert!(is_iban("NO9386011117947") && !is_iban("NO698601111794"));
        assert!(is_iban("GB71ABCD12345678901234567890123456"));
        // Letters in a row (Malta's example): the remainder is taken after every character.
        assert!(is_iban("MT84 MALT 0110 0001 2345 MTLC AST0 01S"));
        assert!(!is_iban("GB68ABCD123456789012345678901234567"), "35 characters");
        assert!(is_iban("GB82 WEST 1234 5698 7654 32") && !is_iban("gb82 WEST 1234 5698 7654 32"));
        // Both pass mod 97; only the shape refuses them (a digit in the country, a letter in
        // the check digits).
        assert!(!is_iban("G090WEST12345698765432") && !is_iban("GBD2WEST12345698765432"));
        assert!(!is_iban("GB82-WEST-1234-5698-7654-32"));
        // GeoJSON: a Point with exactly two coordinates.
        let geo = |d: &bson::RawDocumentBuf| classify("c", "f", RawBsonRef::Document(d));
        assert_eq!(geo(&bson::rawdoc! {"type": "Point", "coordinates": [1.0, 2.0, 3.0]}), None);
        assert_eq!(geo(&bson::rawdoc! {"type": "LineString", "coordinates": [1.0, 2.0]}), None);
        assert_eq!(geo(&bson::rawdoc! {"type": "Point"}), None);
        // What a string is, in this order; names by field, case-insensitively.
        let kind = |c: &str, f: &str, s: &str| classify(c, f, RawBsonRef::String(s));
        assert_eq!(kind("c", "f", "a@b.de"), Some(Kind::Email));
        assert_eq!(kind("c", "f", "NO9386011117947"), Some(Kind::Iban));
        assert_eq!(kind("c", "f", "4111 1111 1111 1111"), Some(Kind::CardNumber));
        // A card number written with dashes is also a separated phone number: card first.
        assert!(is_phone("3782-822463-10005"));
        assert_eq!(kind("c", "f", "3782-822463-10005"), Some(Kind::CardNumber));
        assert_eq!(kind("c", "f", "+963 912 345 678"), Some(Kind::Phone));
        assert_eq!(kind("c", "FirstName", "Dina"), Some(Kind::PersonName));
        assert_eq!(kind("Customers", "name", "Dina"), Some(Kind::PersonName));
        assert_eq!(kind("users", "name", "   "), None);
        assert_eq!(classify("users", "name", RawBsonRef::Int32(7)), None);
        let described: std::collections::BTreeSet<&str> = [
            Kind::Email,
            Kind::Phone,
            Kind::CardNumber,
            Kind::Iban,
            Kind::GeoPoint,
            Kind::PersonName,
        ]
        .iter()
        .map(|k| k.describe())
        .collect();
        assert_eq!(described.len(), 6);
        assert_eq!(Kind::Email.describe(), "e-mail addresses");
        assert_eq!(Kind::Iban.describe(), "IBANs");
        assert_eq!(Kind::PersonName.describe(), "people's names");
    }
}

//! Personal data inside free text: e-mail addresses, phone numbers, card numbers and IBANs
//! found anywhere in a string ("call +963 900 000 000 or mail dina@…"), for the masked
//! restore (every match replaced in place) and `mask check` (every match counted). Pure code.
//!
//! The rules are those of [`super::detect`] applied to candidates cut out of the text: a
//! card must pass Luhn, an IBAN its mod-97 check, a phone number needs a leading `+`/`00` or
//! separators between its digits, and dates, times and IPv4 addresses are not phones.

use super::detect::{self, Kind};

/// One personal value inside a string: its byte range and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// Cheap test before [`find`]: only strings with an `@` or at least eight digits can hold
/// anything it looks for (the shortest phone number it takes has eight).
pub fn candidate(s: &str) -> bool {
    let mut digits = 0;
    for b in s.bytes() {
        if b == b'@' {
            return true;
        }
        if b.is_ascii_digit() {
            digits += 1;
            if digits >= 8 {
                return true;
            }
        }
    }
    false
}

/// Every personal value in `s`, in order, not overlapping.
pub fn find(s: &str) -> Vec<Found> {
    if !candidate(s) {
        return Vec::new();
    }
    let mut found = emails(s);
    let mut taken: Vec<(usize, usize)> = found.iter().map(|f| (f.start, f.end)).collect();
    for f in ibans(s, &taken) {
        taken.push((f.start, f.end));
        found.push(f);
    }
    for f in numbers(s, &taken) {
        found.push(f);
    }
    found.sort_by_key(|f| f.start);
    found
}

fn overlaps(taken: &[(usize, usize)], start: usize, end: usize) -> bool {
    taken.iter().any(|(a, b)| start < *b && *a < end)
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

fn emails(s: &str) -> Vec<Found> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = b[from..].iter().position(|c| *c == b'@').map(|p| p + from) {
        from = at + 1;
        let mut start = at;
        while start > 0 && is_local_char(b[start - 1]) {
            start -= 1;
        }
        // Dots before the local part and dots or dashes after the domain are punctuation;
        // the `@` itself ends both loops.
        while b[start] == b'.' {
            start += 1;
        }
        let mut end = at + 1;
        while end < b.len() && is_domain_char(b[end]) {
            end += 1;
        }
        while b[end - 1] == b'.' || b[end - 1] == b'-' {
            end -= 1;
        }
        let domain = &s[at + 1..end];
        let tld = domain.rsplit('.').next().unwrap_or("");
        if start == at
            || out.last().is_some_and(|f: &Found| start < f.end)
            || !domain.contains('.')
            || tld.len() < 2
            || !tld.bytes().all(|c| c.is_ascii_alphabetic())
            || !detect::is_email(&s[start..end])
        {
            continue;
        }
        out.push(Found { start, end, kind: Kind::Email });
        from = end;
    }
    out
}

/// A value may start here: at the start of the text or after a character that does not
/// belong to a word, an identifier or a number (so `TX-00000001` and `v1.2.3` are not cut).
fn starts_clean(b: &[u8], i: usize) -> bool {
    i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b"-_./#+@".contains(&b[i - 1]))
}

fn ends_clean(b: &[u8], end: usize) -> bool {
    end == b.len() || !(b[end].is_ascii_alphanumeric() || b"_@".contains(&b[end]))
}

/// IBANs: two capital letters, two check digits, then letters and digits, in groups of four
/// separated by single spaces or not at all; the longest such run that passes mod 97.
fn ibans(s: &str, taken: &[(usize, usize)]) -> Vec<Found> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // The shortest IBAN has 15 characters (Norway's).
    while i + 15 <= b.len() {
        let head = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit();
        if !head || !starts_clean(b, i) {
            i += 1;
            continue;
        }
        // Group ends (after each run of characters), longest first.
        let mut ends = Vec::new();
        let mut j = i;
        loop {
            while j < b.len() && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit()) {
                j += 1;
            }
            ends.push(j);
            if j + 1 < b.len()
                && b[j] == b' '
                && (b[j + 1].is_ascii_uppercase() || b[j + 1].is_ascii_digit())
            {
                j += 1;
            } else {
                break;
            }
        }
        let hit = ends.iter().rev().copied().find(|&end| {
            ends_clean(b, end) && !overlaps(taken, i, end) && detect::is_iban(&s[i..end])
        });
        match hit {
            Some(end) => {
                out.push(Found { start: i, end, kind: Kind::Iban });
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// Digits with the separators people write in phone and card numbers (single spaces, `-`,
/// `(`, `)`, a leading `+`; not `.`, which joins versions, amounts and IP addresses): card
/// numbers, then phone numbers.
#[allow(clippy::many_single_char_names)] // s, b, i, c, x: text, bytes, positions
fn numbers(s: &str, taken: &[(usize, usize)]) -> Vec<Found> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let opens = c.is_ascii_digit()
            || ((c == b'+' || c == b'(') && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !opens || !starts_clean(b, i) || overlaps(taken, i, i + 1) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < b.len() {
            let x = b[end];
            let sep = b" -()".contains(&x);
            // A separator counts only when a digit (or an opening bracket) follows, so never
            // two spaces in a row; a closing bracket always does.
            let taken = x.is_ascii_digit()
                || x == b')'
                || (sep && b.get(end + 1).is_some_and(|n| n.is_ascii_digit() || *n == b'('));
            if !taken {
                break;
            }
            end += 1;
        }
        // Separators and opening brackets at the end are not the number's. The digit that
        // opened the run (at `i`, or right after a `+` or `(` there) stops this loop, so the
        // run keeps at least that digit and `end > i`.
        while !b[end - 1].is_ascii_digit() && b[end - 1] != b')' {
            end -= 1;
        }
        let run = &s[i..end];
        if !ends_clean(b, end) || overlaps(taken, i, end) {
            i = end;
            continue;
        }
        if let Some(kind) = number_kind(run) {
            out.push(Found { start: i, end, kind });
        }
        i = end;
    }
    out
}

/// A card number (Luhn), a phone number, or nothing (a date, a time, an amount, an order
/// number).
fn number_kind(run: &str) -> Option<Kind> {
    if is_date(run) {
        return None;
    }
    // Digits, spaces and dashes (is_card_number refuses the rest), perhaps in brackets:
    // "(4111 1111 1111 1111)" is a card, and its 16 digits are too many for a phone.
    if detect::is_card_number(run.trim_start_matches('(').trim_end_matches(')')) {
        return Some(Kind::CardNumber);
    }
    detect::is_phone(run).then_some(Kind::Phone)
}

/// `YYYY-MM-DD` at the start (a timestamp's date, perhaps with more after; the runs
/// [`numbers`] cuts hold no dots, so `YYYY.MM.DD` never reaches here).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(&str, Kind)> {
        find(s).into_iter().map(|f| (&s[f.start..f.end], f.kind)).collect()
    }

    #[test]
    fn finds_personal_data_inside_text() {
        assert_eq!(
            kinds("call +963900000000 or mail alice0@daraa.example before 6pm"),
            [("+963900000000", Kind::Phone), ("alice0@daraa.example", Kind::Email)]
        );
        assert_eq!(kinds("login by user7@daraa.example."), [("user7@daraa.example", Kind::Email)]);
        assert_eq!(
            kinds("My card 4111 1111 1111 1111 was charged"),
            [("4111 1111 1111 1111", Kind::CardNumber)]
        );
        assert_eq!(
            kinds("refund to DE89 3704 0044 0532 0130 00 asap"),
            [("DE89 3704 0044 0532 0130 00", Kind::Iban)]
        );
        assert_eq!(kinds("IBAN:DE89370400440532013000"), [("DE89370400440532013000", Kind::Iban)]);
        assert_eq!(kinds("Phone: (011) 555-1234 567."), [("(011) 555-1234 567", Kind::Phone)]);
        assert_eq!(kinds("tel 00963912345678, thanks"), [("00963912345678", Kind::Phone)]);
        assert_eq!(kinds("a@b.co"), [("a@b.co", Kind::Email)]);
    }

    #[test]
    fn leaves_lookalikes_alone() {
        for s in [
            "order 123456789 shipped",
            "TX-00000001",
            "from 10.0.12.200 at 2024-01-15 10:30:00",
            "192.168.100.200",
            "total 15000000 SYP",
            "version 1.2.3.4567890",
            "4111 1111 1111 1112 is no card",
            "not an email: a@b, @x.com, x@y",
            "2026-11-28T03:15:09Z",
            "",
            "no digits here at all",
        ] {
            assert_eq!(kinds(s), [], "{s}");
        }
        // A broken IBAN is no IBAN (its digits alone may still pass Luhn, and are then
        // masked as a card number: a false alarm costs nothing in a masked copy).
        let s = "DE89 3704 0044 0532 0130 01 fails mod 97";
        assert!(kinds(s).iter().all(|(_, k)| *k != Kind::Iban), "{:?}", kinds(s));
    }

    /// Where a value starts and ends, one boundary at a time; every expected span is a
    /// literal, so a moved boundary shows.
    #[test]
    fn values_are_cut_at_their_exact_boundaries() {
        use Kind::{CardNumber, Email, Iban, Phone};
        let cases: &[(&str, &[(&str, Kind)])] = &[
            // E-mail: dots before the local part and dots or dashes after the domain are
            // punctuation; a second `@` inside the first match starts nothing; the top-level
            // domain has two letters or more.
            ("mail ..bob@daraa.example", &[("bob@daraa.example", Email)]),
            ("to x@daraa.example-", &[("x@daraa.example", Email)]),
            ("to x@daraa.example.-.", &[("x@daraa.example", Email)]),
            ("a@b.co@c.de", &[("a@b.co", Email)]),
            ("a@b.c", &[]),
            ("a@b.c1", &[]),
            ("x@daraa-shop.example", &[("x@daraa-shop.example", Email)]),
            (
                "x@daraa.example(0991) 234 567",
                &[("x@daraa.example", Email), ("0991) 234 567", Phone)],
            ),
            ("(4111 1111 1111 1111)", &[("(4111 1111 1111 1111)", CardNumber)]),
            ("(card 4111-1111-1111-1111)", &[("4111-1111-1111-1111)", CardNumber)]),
            ("(+4111 1111 1111 1111)", &[]),
            ("@daraa.example", &[]),
            // A value starts only after a character that ends a word.
            (" 4111111111111111", &[("4111111111111111", CardNumber)]),
            ("4111111111111111.", &[("4111111111111111", CardNumber)]),
            ("(4111111111111111,", &[("(4111111111111111", CardNumber)]),
            ("x4111111111111111", &[]),
            ("x-4111111111111111", &[]),
            ("x_4111111111111111", &[]),
            ("x.4111111111111111", &[]),
            ("x/4111111111111111", &[]),
            ("x#4111111111111111", &[]),
            ("x+4111111111111111", &[]),
            ("4111111111111111x", &[]),
            ("4111111111111111_", &[]),
            ("4111111111111111@", &[]),
            // Phone numbers: 8 digits with `+` or `00`, 9 with separators; two spaces end a
            // number; a separator may lead to an opening bracket; a closing bracket ends one.
            ("+12345678", &[("+12345678", Phone)]),
            ("12345678 9", &[("12345678 9", Phone)]),
            ("123 456 78", &[]),
            ("123  456 789 012", &[("456 789 012", Phone)]),
            ("+963 (11) 234 5678", &[("+963 (11) 234 5678", Phone)]),
            ("ring 0991 234 (567)", &[("0991 234 (567)", Phone)]),
            (
                "ring 0991 234 (567)+x@daraa.example",
                &[("0991 234 (567)", Phone), ("+x@daraa.example", Email)],
            ),
            ("ring 0991 234 567-", &[("0991 234 567", Phone)]),
            // Separators taken because a bracket follows, and the brackets, are cut off again.
            ("ring +963 912 345 678 (mobile)", &[("+963 912 345 678", Phone)]),
            ("ring 0991 234 567-(x", &[("0991 234 567", Phone)]),
            ("ring 0991 234 567 ((", &[("0991 234 567", Phone)]),
            ("ring 0991 234 567 ", &[("0991 234 567", Phone)]),
            ("(x) 0991 234 567", &[("0991 234 567", Phone)]),
            // A number that runs into an e-mail address is part of nothing else.
            ("call 0991 234 567.x@daraa.example", &[("567.x@daraa.example", Email)]),
            ("2024-01-15 10", &[]),
            ("2024-01-1 5 10", &[("2024-01-1 5 10", Phone)]),
            // IBANs: the longest run of groups that passes mod 97, and a number after it is
            // its own.
            ("DE89 3704 0044 0532 0130 00 0066", &[("DE89 3704 0044 0532 0130 00 0066", Iban)]),
            (
                "DE89 3704 0044 0532 0130 00 0991 234 567",
                &[("DE89 3704 0044 0532 0130 00", Iban), ("0991 234 567", Phone)],
            ),
            ("DE89 3704 0044 0532 0130 00 ", &[("DE89 3704 0044 0532 0130 00", Iban)]),
            ("DE89 3704 0044 0532 0130 00 .", &[("DE89 3704 0044 0532 0130 00", Iban)]),
            (
                "MT84 MALT 0110 0001 2345 MTLC AST0 01S .",
                &[("MT84 MALT 0110 0001 2345 MTLC AST0 01S", Iban)],
            ),
            ("D E89 3704 0044 0532 0130 00", &[]),
            ("DE 89 3704 0044 0532 0130 00", &[]),
            ("DE89 3704  0044 0532 0130 00", &[("0044 0532 0130 00", Phone)]),
            ("xDE89370400440532013000", &[]),
            ("DE89370400440532013000x", &[]),
            ("NO9386011117947", &[("NO9386011117947", Iban)]),
            ("NO9386011117948", &[]),
            ("D189370400440532013000", &[]),
        ];
        for (s, want) in cases {
            assert_eq!(kinds(s), *want, "{s:?}");
        }
    }

    #[test]
    fn candidates_are_cheap_to_rule_out() {
        assert!(!candidate("Fresh from Daraa. Fresh from Daraa."));
        assert!(!candidate("1234567"));
        assert!(candidate("12345678"));
        assert!(candidate("x@"));
    }
}

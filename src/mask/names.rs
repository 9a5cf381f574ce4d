//! The `fake` rule: realistic names from small built-in lists, picked by HMAC of the value,
//! so the same name always becomes the same fake name under one key.

use super::Masker;

const FIRST: [&str; 48] = [
    "Amal", "Bilal", "Carmen", "Dalia", "Elias", "Farah", "Ghassan", "Hana", "Ibrahim", "Jana",
    "Karim", "Layla", "Malik", "Nour", "Omar", "Petra", "Qasim", "Rana", "Samir", "Tala", "Usama",
    "Vera", "Walid", "Yara", "Zaid", "Adam", "Basma", "Celine", "Dina", "Emil", "Fadi", "Grace",
    "Hadi", "Iris", "Jamal", "Kenza", "Lina", "Majd", "Nadia", "Olga", "Rami", "Salma", "Tariq",
    "Ursula", "Victor", "Wafa", "Yusuf", "Zeina",
];

const LAST: [&str; 40] = [
    "Haddad", "Khoury", "Nasser", "Saleh", "Mansour", "Aziz", "Hamdan", "Jaber", "Karam", "Latif",
    "Masri", "Nader", "Qassem", "Rahal", "Sabbagh", "Tamer", "Wehbe", "Yassin", "Zidan", "Bakr",
    "Darwish", "Farouk", "Ghanem", "Halabi", "Issa", "Kassab", "Murad", "Najjar", "Obeid", "Rizk",
    "Shami", "Taha", "Yazbek", "Zein", "Becker", "Costa", "Duarte", "Eriksen", "Fischer", "Moreau",
];

/// One word: a first name; more: a first name and a last name for each further word.
pub fn fake(m: &Masker, value: &str) -> String {
    let words = value.split_whitespace().count().max(1);
    let b = m.stream(b"fake", value.as_bytes(), 2 * words);
    let pick = |list: &[&'static str], i: usize| {
        list[usize::from(u16::from_be_bytes([b[2 * i], b[2 * i + 1]])) % list.len()]
    };
    let mut out = vec![pick(&FIRST, 0)];
    for i in 1..words {
        out.push(pick(&LAST, i));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under one key a name always becomes the same fake name (masked copies made a month
    /// apart still join): the first name is picked by bytes 0-1 of the keyed stream, the
    /// i-th last name by bytes 2i and 2i + 1 (a big-endian u16 modulo the list's length),
    /// whatever the number of words. The expected names are computed here from a longer
    /// stream (its first bytes are the same: see `Masker::stream`).
    #[test]
    fn fake_names_are_picked_from_the_keyed_stream() {
        let m = Masker::new(&crate::config::MaskingConfig::default(), b"0123456789abcdef").unwrap();
        let seventeen = ["w"; 17].join(" ");
        for value in ["Dina", "Dina Haddad", "Dina  Maria Haddad", "", seventeen.as_str()] {
            let b = m.stream(b"fake", value.as_bytes(), 64);
            let at = |k: usize| usize::from(b[k]) * 256 + usize::from(b[k + 1]);
            let words = value.split_whitespace().count().max(1);
            let mut expected = vec![FIRST[at(0) % 48]];
            expected.extend((1..words).map(|i| LAST[at(i + i) % 40]));
            assert_eq!(fake(&m, value), expected.join(" "), "{value:?}");
        }
    }
}

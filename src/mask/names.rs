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

//! Comparing a password with stored SCRAM-SHA-256 credentials (RFC 5802/7677), locally.
//!
//! The server keeps `StoredKey = H(HMAC(SaltedPassword, "Client Key"))` with
//! `SaltedPassword = PBKDF2-HMAC-SHA-256(SASLprep(password), salt, i)`. Deriving the same value
//! from the secrets file tells whether the file still holds the user's password, without a
//! login attempt and without the password leaving this process.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

use super::PasswordCheck;

/// The SCRAM-SHA-256 part of `usersInfo` with `showCredentials: true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    pub iteration_count: u32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
}

impl StoredCredentials {
    pub fn from_doc(d: &bson::Document) -> Option<Self> {
        let iterations = match d.get("iterationCount")? {
            bson::Bson::Int32(i) => i64::from(*i),
            bson::Bson::Int64(i) => *i,
            bson::Bson::Double(f) if f.fract() == 0.0 => *f as i64,
            _ => return None,
        };
        Some(StoredCredentials {
            iteration_count: u32::try_from(iterations).ok().filter(|i| *i > 0)?,
            salt: STANDARD.decode(d.get_str("salt").ok()?).ok()?,
            stored_key: STANDARD.decode(d.get_str("storedKey").ok()?).ok()?,
        })
    }
}

/// The stored key a password would produce with these salt and iteration count.
pub fn stored_key(password: &str, salt: &[u8], iterations: u32) -> Result<[u8; 32], String> {
    let prepared = stringprep::saslprep(password)
        .map_err(|_| "the password has characters SASLprep prohibits".to_owned())?;
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(prepared.as_bytes(), salt, iterations, &mut salted);
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(&salted).map_err(|_| "HMAC key refused".to_owned())?;
    mac.update(b"Client Key");
    let client_key = mac.finalize().into_bytes();
    Ok(Sha256::digest(client_key).into())
}

pub fn check(password: &SecretString, stored: &StoredCredentials) -> PasswordCheck {
    match stored_key(password.expose_secret(), &stored.salt, stored.iteration_count) {
        Ok(key) if key.as_slice() == stored.stored_key.as_slice() => PasswordCheck::Matches,
        Ok(_) => PasswordCheck::Differs,
        Err(why) => PasswordCheck::Unknown(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, i=4096;
    /// the exchange's ClientProof and the server's StoredKey derive from the same values.
    #[test]
    fn rfc7677_example_stored_key() {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let key = stored_key("pencil", &salt, 4096).unwrap();
        // StoredKey for the RFC's example, computed independently with Python's hashlib:
        // sha256(hmac(pbkdf2_hmac('sha256', b'pencil', salt, 4096), b'Client Key')).
        assert_eq!(STANDARD.encode(key), "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
    }

    #[test]
    fn check_matches_and_differs() {
        let salt = b"0123456789abcdef0123456789ab".to_vec();
        let key = stored_key("s3cret-Pw", &salt, 15000).unwrap();
        let stored = StoredCredentials { iteration_count: 15000, salt, stored_key: key.to_vec() };
        assert_eq!(check(&SecretString::from("s3cret-Pw"), &stored), PasswordCheck::Matches);
        assert_eq!(check(&SecretString::from("s3cret-pw"), &stored), PasswordCheck::Differs);
    }

    #[test]
    fn parses_usersinfo_credentials() {
        let d = bson::doc! {
            "iterationCount": 15000,
            "salt": "31vgpvgXLwRxypjVkVf0IhfhvSSaT0BHT2Jx5g==",
            "storedKey": "nWk/RSHlKt2mQGWSCw8PbiZzJPgsgeB+56X9EZGn3CA=",
            "serverKey": "k1LkCAMFjL+EY7vT8fvlOwFgKXhkV9rR0+2/AJaxnaE=",
        };
        let c = StoredCredentials::from_doc(&d).unwrap();
        assert_eq!(c.iteration_count, 15000);
        assert_eq!(c.salt.len(), 28);
        assert_eq!(c.stored_key.len(), 32);
        assert!(StoredCredentials::from_doc(&bson::doc! {"salt": "x"}).is_none());
    }
}

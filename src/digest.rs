//! Counts and digests of streams of BSON documents, shared by the archive reader, the dump
//! (mongo) and the drill's comparison. A leaf: knows nothing of the rest of the crate.

use sha2::{Digest as _, Sha256};

/// What one member held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberStats {
    pub documents: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Order-independent digest of a set of documents: the wrapping sum of each document's
/// SHA-256 (as two 128-bit halves). Equal multisets of documents give equal digests whatever
/// the order, so a drill can compare what the server holds with what the archive held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SetDigest {
    hi: u128,
    lo: u128,
}

impl SetDigest {
    pub fn add(&mut self, doc: &[u8]) {
        let (hi, lo) = halves(doc);
        self.hi = self.hi.wrapping_add(hi);
        self.lo = self.lo.wrapping_add(lo);
    }

    /// Takes a document out of the set (a replayed oplog replaced or deleted it).
    pub fn remove(&mut self, doc: &[u8]) {
        let (hi, lo) = halves(doc);
        self.hi = self.hi.wrapping_sub(hi);
        self.lo = self.lo.wrapping_sub(lo);
    }

    /// A digest as [`SetDigest::hex`] wrote it.
    pub fn from_hex(text: &str) -> Option<SetDigest> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let hi = u128::from_str_radix(&text[..32], 16).ok()?;
        let lo = u128::from_str_radix(&text[32..], 16).ok()?;
        Some(SetDigest { hi, lo })
    }

    pub fn hex(&self) -> String {
        format!("{:032x}{:032x}", self.hi, self.lo)
    }
}

fn halves(doc: &[u8]) -> (u128, u128) {
    let h = Sha256::digest(doc);
    (
        u128::from_be_bytes(h[..16].try_into().expect("16 bytes")),
        u128::from_be_bytes(h[16..].try_into().expect("16 bytes")),
    )
}

#[cfg(test)]
mod tests {
    use super::SetDigest;

    #[test]
    fn removing_a_document_undoes_adding_it() {
        let mut a = SetDigest::default();
        a.add(b"one");
        a.add(b"two");
        let mut b = SetDigest::from_hex(&a.hex()).unwrap();
        assert_eq!(a, b);
        b.add(b"three");
        b.remove(b"two");
        let mut c = SetDigest::default();
        c.add(b"three");
        c.add(b"one");
        assert_eq!(b, c);
        assert_eq!(SetDigest::from_hex("zz"), None);
    }
}

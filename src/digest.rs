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
        let h = Sha256::digest(doc);
        self.hi = self.hi.wrapping_add(u128::from_be_bytes(h[..16].try_into().expect("16 bytes")));
        self.lo = self.lo.wrapping_add(u128::from_be_bytes(h[16..].try_into().expect("16 bytes")));
    }

    pub fn hex(&self) -> String {
        format!("{:032x}{:032x}", self.hi, self.lo)
    }
}

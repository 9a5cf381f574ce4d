//! The backup repository: the layer between the engines and the storages and archive format.
//! Which backups exist ([`catalog`]), which one a command means ([`resolve`]), its plaintext
//! ([`open`]: decrypted with the configured keys, [`keys`]), and the results of the checks
//! recorded beside it ([`checks`]); every backup over every storage ([`listing`]). Engines
//! reach backups through here; nothing here knows the command line.

pub mod catalog;
pub mod checks;
pub mod keys;
pub mod listing;
pub mod open;
pub mod resolve;

pub use catalog::{Entry, scan};
pub use checks::{Check, CheckKind, Checks, now_rfc3339};
pub use keys::{load_identities, recipients};
pub use resolve::{Resolved, resolve};

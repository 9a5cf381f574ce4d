//! The last verify and drill of a backup, recorded beside it (`<id>.checks.json` in the storage
//! it was read from): what `list` and `describe` show, and what retention's `keep_drilled`
//! reads.

use serde::Serialize;

use crate::archive::names::CHECKS_SUFFIX;
use crate::storage::Storage;

/// The last verify and drill of a backup (`<id>.checks.json` beside its sidecar, written by
/// `verify` and `drill` of a catalog backup; retention keeps the newest drilled backup).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Checks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drilled: Option<Check>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Check {
    /// RFC 3339, UTC: when it ended.
    pub at: String,
    pub ok: bool,
    /// What failed, for a failed check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// verify: whether the contents were checked (false: an encrypted backup checked without
    /// a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents_checked: Option<bool>,
    /// drill: seconds the restore into the scratch database took (the restore time to expect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_seconds: Option<f64>,
    /// drill --to-time: the point it restored to (`T,I`): the backup, then the archived
    /// oplog up to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_time: Option<String>,
}

/// Which check ran.
#[derive(Debug, Clone, Copy)]
pub enum CheckKind {
    Verify,
    Drill,
}

/// Records a verify or drill result beside backup `id` (`<id>.checks.json` in `storage`).
/// Failures are logged: the check itself already happened.
pub async fn record(storage: &Storage, id: &str, kind: CheckKind, check: Check) {
    let name = format!("{id}{CHECKS_SUFFIX}");
    let mut checks = match storage.get_bytes(&name).await {
        Ok(Some(b)) => serde_json::from_slice::<Checks>(&b).unwrap_or_default(),
        Ok(None) => Checks::default(),
        Err(e) => {
            tracing::warn!("cannot read {name}: {e}");
            Checks::default()
        }
    };
    match kind {
        CheckKind::Verify => checks.verified = Some(check),
        CheckKind::Drill => checks.drilled = Some(check),
    }
    let bytes = serde_json::to_vec_pretty(&checks).unwrap_or_default();
    if let Err(e) = storage.put_bytes(&name, &bytes).await {
        tracing::warn!("cannot record the result beside backup {id}: {e}");
    }
}

/// Now, as [`Check::at`] says it.
pub fn now_rfc3339() -> String {
    let t = jiff::Timestamp::now();
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

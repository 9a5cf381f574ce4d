//! The members of a daraa-ops tar archive and their order: `prelude.json`, per collection
//! `<db>/<escaped>.metadata.json` then `<db>/<escaped>.bson`, and `manifest.json` last. A
//! mongodump `--out` folder uses the same member names.

pub const PRELUDE: &str = "prelude.json";

pub const MANIFEST: &str = "manifest.json";

/// The oplog written while the dump ran, at the top level where `mongodump --oplog` puts it;
/// after the collections, before the manifest.
pub const OPLOG: &str = "oplog.bson";

/// `{"ServerVersion": ..., "ToolVersion": ...}` as mongodump writes it.
pub fn prelude_json(server_version: &str) -> Vec<u8> {
    serde_json::json!({
        "ServerVersion": server_version,
        "ToolVersion": format!("daraa-ops {}", env!("CARGO_PKG_VERSION")),
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    /// mongorestore reads `prelude.json` of a `--out` folder: the server's version under
    /// mongodump's key, and the tool that wrote it.
    #[test]
    fn the_prelude_is_mongodumps_json_with_our_name() {
        let v: serde_json::Value = serde_json::from_slice(&super::prelude_json("7.0.14")).unwrap();
        assert_eq!(v["ServerVersion"], "7.0.14");
        assert_eq!(v["ToolVersion"], format!("daraa-ops {}", env!("CARGO_PKG_VERSION")));
        assert_eq!(v.as_object().unwrap().len(), 2);
    }
}

//! Least privilege, as data: which privilege actions each command daraa-ops sends needs, on
//! which resource, and which commands each job sends. The facts are MongoDB 7's documented
//! privilege actions (docs/troubleshooting.md has the table per job); the integration suite
//! records every command each job really sends (`DARAA_OPS_COMMAND_LOG`) and fails when one is
//! missing here or not granted by the job's role in config/daraa-ops.example.yaml.

use std::collections::BTreeSet;

use bson::Document;

/// A resource a privilege applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum On {
    /// The database the job acts on (`{db: <name>, collection: ""}`).
    Database,
    /// `{cluster: true}`.
    Cluster,
    /// The oplog, `{db: "local", collection: "oplog.rs"}`.
    Oplog,
}

/// One command and the actions it needs.
#[derive(Debug)]
pub struct Need {
    /// The command name as the driver sends it; `aggregate:$stage` for an aggregation whose
    /// first stage needs its own action.
    pub command: &'static str,
    pub on: On,
    pub actions: &'static [&'static str],
}

/// Commands every authenticated user may run (handshake, session and cursor housekeeping).
pub const NO_PRIVILEGE: &[&str] = &[
    "ping",
    "hello",
    "isMaster",
    "ismaster",
    "buildInfo",
    "buildinfo",
    "saslStart",
    "saslContinue",
    "endSessions",
    "killCursors",
    "connectionStatus",
];

/// What each command needs (MongoDB 7 privilege actions).
pub const COMMANDS: &[Need] = &[
    Need { command: "find", on: On::Database, actions: &["find"] },
    Need { command: "getMore", on: On::Database, actions: &["find"] },
    // Reads of the oplog (a backup's entries written while it dumped).
    Need { command: "find:oplog", on: On::Oplog, actions: &["find"] },
    Need { command: "getMore:oplog", on: On::Oplog, actions: &["find"] },
    Need { command: "count", on: On::Database, actions: &["find"] },
    Need { command: "aggregate", on: On::Database, actions: &["find"] },
    Need { command: "aggregate:$match", on: On::Database, actions: &["find"] },
    Need { command: "aggregate:$collStats", on: On::Database, actions: &["collStats"] },
    Need { command: "aggregate:$indexStats", on: On::Database, actions: &["indexStats"] },
    Need { command: "listCollections", on: On::Database, actions: &["listCollections"] },
    Need { command: "listIndexes", on: On::Database, actions: &["listIndexes"] },
    Need { command: "create", on: On::Database, actions: &["createCollection"] },
    Need { command: "insert", on: On::Database, actions: &["insert"] },
    Need { command: "delete", on: On::Database, actions: &["remove"] },
    // With upsert (the restore's journal), an update may insert.
    Need { command: "update", on: On::Database, actions: &["update", "insert"] },
    Need { command: "createIndexes", on: On::Database, actions: &["createIndex"] },
    Need { command: "dropIndexes", on: On::Database, actions: &["dropIndex"] },
    Need { command: "collMod", on: On::Database, actions: &["collMod"] },
    Need { command: "drop", on: On::Database, actions: &["dropCollection"] },
    // Within one database; with dropTarget the target is dropped, and the source is read.
    Need {
        command: "renameCollection",
        on: On::Database,
        actions: &["renameCollectionSameDB", "dropCollection", "find"],
    },
    Need { command: "dropDatabase", on: On::Database, actions: &["dropDatabase"] },
    Need { command: "dbStats", on: On::Database, actions: &["dbStats"] },
    Need { command: "collStats", on: On::Database, actions: &["collStats"] },
    Need { command: "listDatabases", on: On::Cluster, actions: &["listDatabases"] },
    Need { command: "serverStatus", on: On::Cluster, actions: &["serverStatus"] },
    Need { command: "replSetGetStatus", on: On::Cluster, actions: &["replSetGetStatus"] },
];

/// The jobs that may run as their own user (`mongodb.jobs.<job>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Job {
    Backup,
    Restore,
    Drill,
    Cleanup,
    Stats,
    Indexes,
}

impl Job {
    pub const ALL: [Job; 6] =
        [Job::Backup, Job::Restore, Job::Drill, Job::Cleanup, Job::Stats, Job::Indexes];

    pub fn name(self) -> &'static str {
        match self {
            Job::Backup => "backup",
            Job::Restore => "restore",
            Job::Drill => "drill",
            Job::Cleanup => "cleanup",
            Job::Stats => "stats",
            Job::Indexes => "indexes",
        }
    }

    /// The database the job's privileges apply to: the configured one, except the drill's
    /// scratch database `<db>_drill`.
    pub fn database(self, configured: &str) -> String {
        match self {
            Job::Drill => format!("{configured}_drill"),
            _ => configured.to_owned(),
        }
    }

    /// The commands this job sends (beyond [`NO_PRIVILEGE`]).
    pub fn commands(self) -> &'static [&'static str] {
        match self {
            Job::Backup => &[
                "find",
                "getMore",
                "count",
                "aggregate",
                "listCollections",
                "listIndexes",
                "find:oplog",
                "getMore:oplog",
            ],
            Job::Restore => &[
                "find",
                "getMore",
                "count",
                "aggregate",
                "listCollections",
                "listIndexes",
                "create",
                "insert",
                "update",
                "delete",
                "createIndexes",
                "renameCollection",
                "drop",
            ],
            Job::Drill => &[
                "find",
                "getMore",
                "count",
                "aggregate",
                "aggregate:$match",
                "listCollections",
                "listIndexes",
                "create",
                "insert",
                "update",
                "delete",
                "createIndexes",
                "renameCollection",
                "drop",
                "dropDatabase",
            ],
            Job::Cleanup => &[
                "find",
                "getMore",
                "count",
                "aggregate",
                "aggregate:$match",
                "listCollections",
                "delete",
                "insert",
                "create",
                "replSetGetStatus",
            ],
            Job::Stats => &[
                "find",
                "getMore",
                "count",
                "listCollections",
                "listIndexes",
                "dbStats",
                "collStats",
                "aggregate:$collStats",
                "aggregate:$indexStats",
                "serverStatus",
                "replSetGetStatus",
            ],
            Job::Indexes => &[
                "listCollections",
                "listIndexes",
                "createIndexes",
                "dropIndexes",
                "collMod",
                "find",
                "getMore",
            ],
        }
    }

    /// Every (resource, action) the job's commands need.
    pub fn needs(self) -> BTreeSet<(On, &'static str)> {
        self.commands()
            .iter()
            .filter_map(|c| COMMANDS.iter().find(|n| n.command == *c))
            .flat_map(|n| n.actions.iter().map(move |a| (n.on, *a)))
            .collect()
    }
}

/// The database and collection a command acts on, as its privileges are checked: the
/// database it is sent to and the collection its first field names; `renameCollection` (sent
/// to `admin`) acts on the database and collection of its source namespace. The collection
/// is empty for database-wide commands (`listCollections`, `dropDatabase`, ...).
pub fn resource_of(command_name: &str, db: &str, command: &Document) -> (String, String) {
    let first = match command_name {
        // getMore's first field is the cursor id; its collection is named beside it.
        "getMore" => command.get_str("collection").unwrap_or_default(),
        _ => command.get(command_name).and_then(bson::Bson::as_str).unwrap_or_default(),
    };
    if command_name == "renameCollection"
        && let Some((source_db, collection)) = first.split_once('.')
    {
        return (source_db.to_owned(), collection.to_owned());
    }
    (db.to_owned(), first.to_owned())
}

/// The name under which a command event is recorded: the command, for `aggregate` the
/// first stage when that stage needs its own action, and `find:oplog`/`getMore:oplog` for
/// reads of the oplog.
pub fn recorded_name(command_name: &str, db: &str, command: &Document) -> String {
    if matches!(command_name, "find" | "getMore")
        && resource_of(command_name, db, command) == ("local".into(), "oplog.rs".into())
    {
        return format!("{command_name}:oplog");
    }
    if command_name == "aggregate"
        && let Ok(pipeline) = command.get_array("pipeline")
        && let Some(bson::Bson::Document(first)) = pipeline.first()
        && let Some(stage) = first.keys().next()
        && COMMANDS.iter().any(|n| n.command == format!("aggregate:{stage}"))
    {
        return format!("aggregate:{stage}");
    }
    command_name.to_owned()
}

/// The (resource, action) pairs a `connectionStatus` reply with `showPrivileges: true` grants
/// on `db`: privileges on that database (any collection, or every collection), on any
/// database (`db: ""`), and on the cluster. `None` when the server reports no privileges
/// (FerretDB).
pub fn granted(reply: &Document, db: &str) -> Option<BTreeSet<(On, String)>> {
    let info = reply.get_document("authInfo").ok()?;
    let privileges = info.get_array("authenticatedUserPrivileges").ok()?;
    let mut out = BTreeSet::new();
    for p in privileges {
        let bson::Bson::Document(p) = p else { continue };
        let Ok(resource) = p.get_document("resource") else { continue };
        let (Ok(actions), any) = (p.get_array("actions"), resource.get_bool("anyResource")) else {
            continue;
        };
        let names = || actions.iter().filter_map(|a| a.as_str()).map(str::to_owned);
        if matches!(any, Ok(true)) {
            // Every resource: the database and the cluster alike.
            out.extend(names().map(|a| (On::Database, a)));
            out.extend(names().map(|a| (On::Cluster, a)));
            continue;
        }
        let on = if resource.get_bool("cluster").unwrap_or(false) {
            Some(On::Cluster)
        } else {
            let pdb = resource.get_str("db").unwrap_or("-");
            let coll = resource.get_str("collection").unwrap_or("-");
            if pdb == "local" && coll == "oplog.rs" {
                Some(On::Oplog)
            } else {
                (coll.is_empty() && (pdb == db || pdb.is_empty())).then_some(On::Database)
            }
        };
        let Some(on) = on else { continue };
        out.extend(names().map(|a| (on, a)));
    }
    Some(out)
}

/// What `job` needs that `granted` lacks.
pub fn missing(job: Job, granted: &BTreeSet<(On, String)>) -> Vec<(On, &'static str)> {
    job.needs().into_iter().filter(|(on, a)| !granted.contains(&(*on, (*a).to_owned()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Document {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mongodb7")
            .join(name);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        match bson::Bson::try_from(v).unwrap() {
            bson::Bson::Document(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_job_command_is_in_the_table() {
        for job in Job::ALL {
            for c in job.commands() {
                assert!(COMMANDS.iter().any(|n| n.command == *c), "{}: {c}", job.name());
            }
        }
    }

    /// A MongoDB 7 connectionStatus reply (tests/fixtures/mongodb7) for a user holding only
    /// the built-in `backup` and `restore` roles, as the old example config had it: the
    /// restore job lacks renameCollectionSameDB, the drill dropDatabase, cleanup remove, and
    /// the backup the oplog (the fixture's privileges name nothing in `local`).
    #[test]
    fn builtin_backup_and_restore_roles_lack_what_the_jobs_send() {
        let reply = fixture("connectionStatus.backup-restore.json");
        let g = granted(&reply, "daraa").expect("MongoDB reports privileges");
        assert_eq!(missing(Job::Backup, &g), vec![(On::Oplog, "find")]);
        assert!(missing(Job::Restore, &g).contains(&(On::Database, "renameCollectionSameDB")));
        assert!(missing(Job::Drill, &g).contains(&(On::Database, "dropDatabase")));
        assert!(missing(Job::Cleanup, &g).contains(&(On::Database, "remove")));
        assert!(missing(Job::Stats, &g).contains(&(On::Cluster, "replSetGetStatus")));
    }

    #[test]
    fn ferretdb_reports_no_privileges() {
        let reply = bson::doc! {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}, "ok": 1.0};
        assert_eq!(granted(&reply, "daraa"), None);
    }

    #[test]
    fn aggregate_is_recorded_with_its_stage() {
        let cmd = bson::doc! {"aggregate": "orders", "pipeline": [{"$indexStats": {}}]};
        assert_eq!(recorded_name("aggregate", "d", &cmd), "aggregate:$indexStats");
        let plain = bson::doc! {"aggregate": "orders", "pipeline": [{"$group": {"_id": 1}}]};
        assert_eq!(recorded_name("aggregate", "d", &plain), "aggregate");
    }
}

//! Replica-set state from `replSetGetStatus`: members, their states and health, and how far
//! each secondary lags the primary. Used by `stats` and by cleanup's lag pause.

use bson::{Bson, Document, doc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub name: String,
    /// `PRIMARY`, `SECONDARY`, `ARBITER`, `RECOVERING`, ...
    pub state: String,
    pub healthy: bool,
    pub is_self: bool,
    /// Milliseconds since the epoch of the last applied operation (none for arbiters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optime_ms: Option<i64>,
    /// Seconds behind the primary (secondaries only, when the primary is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplStatus {
    pub set: String,
    pub members: Vec<Member>,
}

impl ReplStatus {
    /// The largest lag of a healthy secondary, if any secondary reports one.
    pub fn max_secondary_lag(&self) -> Option<f64> {
        self.members.iter().filter(|m| m.healthy).filter_map(|m| m.lag_seconds).reduce(f64::max)
    }
}

fn date_ms(v: Option<&Bson>) -> Option<i64> {
    match v? {
        Bson::DateTime(d) => Some(d.timestamp_millis()),
        _ => None,
    }
}

/// Parses a `replSetGetStatus` reply.
pub fn parse(reply: &Document) -> Option<ReplStatus> {
    let set = reply.get_str("set").ok()?.to_owned();
    let raw = reply.get_array("members").ok()?;
    let mut members: Vec<Member> = raw
        .iter()
        .filter_map(Bson::as_document)
        .map(|m| Member {
            name: m.get_str("name").unwrap_or("?").to_owned(),
            state: m.get_str("stateStr").unwrap_or("UNKNOWN").to_owned(),
            healthy: match m.get("health") {
                Some(Bson::Double(h)) => *h > 0.0,
                Some(Bson::Int32(h)) => *h > 0,
                Some(Bson::Int64(h)) => *h > 0,
                _ => false,
            },
            is_self: m.get_bool("self").unwrap_or(false),
            optime_ms: date_ms(m.get("optimeDate")),
            lag_seconds: None,
        })
        .collect();
    let primary = members.iter().find(|m| m.state == "PRIMARY").and_then(|m| m.optime_ms);
    if let Some(p) = primary {
        for m in members.iter_mut().filter(|m| m.state == "SECONDARY") {
            m.lag_seconds = m.optime_ms.map(|o| ((p - o).max(0)) as f64 / 1000.0);
        }
    }
    Some(ReplStatus { set, members })
}

/// The replica-set status, or `None` when the server is not a replica-set member (standalone
/// MongoDB answers `NoReplicationEnabled`; FerretDB has no such command).
pub async fn status(client: &mongodb::Client) -> Result<Option<ReplStatus>, ReplSetError> {
    match client.database("admin").run_command(doc! {"replSetGetStatus": 1}).await {
        Ok(reply) => Ok(parse(&reply)),
        Err(e) => match e.kind.as_ref() {
            mongodb::error::ErrorKind::Command(c) => match refusal(c.code, &c.code_name) {
                Refusal::NotAReplicaSet => Ok(None),
                Refusal::Unauthorized => Err(ReplSetError::Unauthorized(c.message.clone())),
                Refusal::Other => Err(ReplSetError::Driver(e)),
            },
            _ => Err(ReplSetError::Driver(e)),
        },
    }
}

/// `replSetGetStatus` could not say whether this is a replica set.
#[derive(Debug, thiserror::Error)]
pub enum ReplSetError {
    /// The user lacks the `replSetGetStatus` action on the cluster resource: it is unknown
    /// whether secondaries lag, and that must never read as "not a replica set".
    #[error(
        "replSetGetStatus refused ({0}): the user lacks the replSetGetStatus privilege action on the cluster resource (built-in role clusterMonitor, or daraa-ops' job roles in config/daraa-ops.example.yaml)"
    )]
    Unauthorized(String),
    #[error(transparent)]
    Driver(#[from] mongodb::error::Error),
}

#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    NotAReplicaSet,
    Unauthorized,
    Other,
}

/// What a refused `replSetGetStatus` means. 76 NoReplicationEnabled, 94 NotYetInitialized,
/// 59 CommandNotFound and 238 NotImplemented (FerretDB): not a replica set. 13 Unauthorized:
/// the question was not answered.
fn refusal(code: i32, code_name: &str) -> Refusal {
    match code {
        13 => Refusal::Unauthorized,
        76 | 59 | 238 | 94 => Refusal::NotAReplicaSet,
        _ if code_name == "NotYetInitialized" => Refusal::NotAReplicaSet,
        _ => Refusal::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MongoDB 7 answers an unauthorized replSetGetStatus with code 13 (Unauthorized): that
    /// is not "no replica set".
    #[test]
    fn unauthorized_is_not_standalone() {
        assert_eq!(refusal(13, "Unauthorized"), Refusal::Unauthorized);
        assert_eq!(refusal(76, "NoReplicationEnabled"), Refusal::NotAReplicaSet);
        assert_eq!(refusal(238, "NotImplemented"), Refusal::NotAReplicaSet);
        assert_eq!(refusal(11600, "InterruptedAtShutdown"), Refusal::Other);
        let msg = ReplSetError::Unauthorized("not authorized on admin".into()).to_string();
        assert!(
            msg.contains("replSetGetStatus privilege action") && msg.contains("clusterMonitor")
        );
    }

    /// A `replSetGetStatus` reply in the shape MongoDB 7 documents for Daraa's planned primary
    /// + secondary + arbiter (tests/fixtures/mongodb7/replSetGetStatus.json).
    #[test]
    fn primary_secondary_arbiter_with_lag() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mongodb7/replSetGetStatus.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let Bson::Document(d) = Bson::try_from(v).unwrap() else { panic!() };
        let s = parse(&d).unwrap();
        assert_eq!(s.set, "rs0");
        let states: Vec<&str> = s.members.iter().map(|m| m.state.as_str()).collect();
        assert_eq!(states, ["PRIMARY", "SECONDARY", "ARBITER"]);
        assert_eq!(s.members[1].lag_seconds, Some(12.0));
        assert_eq!(s.members[2].lag_seconds, None);
        assert!(s.members.iter().all(|m| m.healthy));
        assert!(s.members[0].is_self);
        assert_eq!(s.max_secondary_lag(), Some(12.0));
    }
}

//! Who holds a lock, and whether that process still runs: host, boot, PID namespace, pid and
//! start time, so that a process elsewhere (another host, boot or container) is never
//! declared dead, and a zombie or a reused pid is not taken for the holder. The decision is
//! pure ([`decide`]); reading `/proc` is passed in.

use serde::{Deserialize, Serialize};

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// What can be known here of a holder's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Running on this host, in this PID namespace: the same process (pid and start time).
    Alive,
    /// It ran here and has ended: no such pid, a zombie, or another process with its pid.
    Dead,
    /// Another host, another boot of a host with the same name, or another PID namespace: its
    /// pid means nothing here, so it is assumed alive.
    Elsewhere,
}

/// A process as records of it (staging folders, temporary files) name it: host and pid, and
/// where known its boot, PID namespace and start time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub host: String,
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_ns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ticks: Option<u64>,
}

impl ProcessId {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        ProcessId {
            host: hostname(),
            pid,
            boot_id: boot_id(),
            pid_ns: pid_namespace(),
            start_ticks: proc_stat(pid).map(|s| s.start_ticks),
        }
    }

    /// A pid on this host, known by its number only (an older record, a file name).
    pub fn here(pid: u32) -> Self {
        ProcessId { host: hostname(), pid, boot_id: None, pid_ns: None, start_ticks: None }
    }

    /// Alive here, dead (ended, a zombie, its pid reused), or elsewhere (another host, boot
    /// or PID namespace: its pid means nothing here).
    pub fn liveness(&self) -> Liveness {
        let here = Here { host: hostname(), boot_id: boot_id(), pid_ns: pid_namespace() };
        decide(self, &here, proc_stat)
    }
}

/// This host's identity, as a holder record names it.
struct Here {
    host: String,
    boot_id: Option<String>,
    pid_ns: Option<String>,
}

/// The pure decision of [`ProcessId::liveness`], with `/proc` reading passed in (unit-tested).
fn decide(h: &ProcessId, here: &Here, stat: impl Fn(u32) -> Option<ProcStat>) -> Liveness {
    let differs = |theirs: &Option<String>, ours: &Option<String>| matches!((theirs, ours), (Some(a), Some(b)) if a != b);
    if h.host != here.host
        || h.pid == 0
        || differs(&h.boot_id, &here.boot_id)
        || differs(&h.pid_ns, &here.pid_ns)
    {
        return Liveness::Elsewhere;
    }
    match stat(h.pid) {
        None => Liveness::Dead,
        // A zombie has exited; only its parent has not collected it yet.
        Some(s) if s.state == 'Z' || s.state == 'X' => Liveness::Dead,
        Some(s) if h.start_ticks.is_some_and(|t| t != s.start_ticks) => Liveness::Dead,
        Some(_) => Liveness::Alive,
    }
}

/// Fields of `/proc/<pid>/stat` that identify a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcStat {
    state: char,
    start_ticks: u64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `pid (comm) state ppid ... starttime ...`: the command may hold spaces and parentheses,
/// so fields are counted after the last `)`. State is field 3, start time field 22.
fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_owned())
}

/// `pid:[4026531836]`: the PID namespace this process sees pids in.
fn pid_namespace() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid").ok().map(|p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(
        host: &str,
        pid: u32,
        boot: Option<&str>,
        ns: Option<&str>,
        ticks: Option<u64>,
    ) -> ProcessId {
        ProcessId {
            host: host.into(),
            pid,
            boot_id: boot.map(Into::into),
            pid_ns: ns.map(Into::into),
            start_ticks: ticks,
        }
    }

    #[test]
    fn a_holder_is_dead_only_when_this_host_can_tell() {
        let here = Here {
            host: "db1".into(),
            boot_id: Some("boot-a".into()),
            pid_ns: Some("pid:[1]".into()),
        };
        let running = |state| move |_| Some(ProcStat { state, start_ticks: 500 });
        let gone = |_| None;
        let ours = holder("db1", 42, Some("boot-a"), Some("pid:[1]"), Some(500));
        assert_eq!(decide(&ours, &here, running('S')), Liveness::Alive);
        assert_eq!(decide(&ours, &here, gone), Liveness::Dead);
        // A zombie (killed, not yet reaped) holds nothing.
        assert_eq!(decide(&ours, &here, running('Z')), Liveness::Dead);
        // The pid was reused by a process that started later.
        let reused = |_| Some(ProcStat { state: 'S', start_ticks: 900 });
        assert_eq!(decide(&ours, &here, reused), Liveness::Dead);
        // Another PID namespace or boot (a container with the same host name): never dead.
        let other_ns = holder("db1", 42, Some("boot-a"), Some("pid:[2]"), Some(500));
        assert_eq!(decide(&other_ns, &here, gone), Liveness::Elsewhere);
        let other_boot = holder("db1", 42, Some("boot-b"), Some("pid:[1]"), Some(500));
        assert_eq!(decide(&other_boot, &here, gone), Liveness::Elsewhere);
        assert_eq!(decide(&holder("db2", 42, None, None, None), &here, gone), Liveness::Elsewhere);
        // A record of an older version (no identity): host and pid decide, as before.
        let old = holder("db1", 42, None, None, None);
        assert_eq!(decide(&old, &here, running('R')), Liveness::Alive);
        assert_eq!(decide(&old, &here, gone), Liveness::Dead);
    }

    #[test]
    fn proc_stat_fields_are_counted_after_the_command() {
        let s = parse_stat(
            "1234 (a (b) c) Z 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 777 1000 100",
        )
        .unwrap();
        assert_eq!(s, ProcStat { state: 'Z', start_ticks: 777 });
        let me = proc_stat(std::process::id()).unwrap();
        assert!(me.state == 'R' || me.state == 'S', "{me:?}");
        assert!(parse_stat("garbage").is_none());
    }
}

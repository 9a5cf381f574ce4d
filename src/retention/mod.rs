//! Which complete backups to keep: `keep_days`, `keep_last` and restic-style
//! `keep_daily/weekly/monthly`. Pure: a list of (id, time) in, a keep/delete plan out.
//!
//! Semantics (restic's `forget`): a backup is kept if any rule keeps it. `keep_last N` keeps the
//! N newest. `keep_days D` keeps those younger than D days. `keep_daily N` keeps, for each of
//! the N most recent days that have backups, the newest backup of that day; weekly uses ISO
//! weeks, monthly calendar months, all in UTC. `keep_drilled` keeps the newest backup whose last
//! drill passed (`drilled`), and the newest good backup made by `backup` itself is always kept
//! (`newest-own`), so imported backups can never rotate it away. Incomplete backups are never
//! considered.
//!
//! [`prune::apply`] is the engine that applies the plan to the storages.

pub mod prune;

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::Serialize;

use crate::config::RetentionConfig;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: String,
    pub keep: bool,
    /// Why it is kept (`last`, `days`, `daily`, `weekly`, `monthly`, `drilled`, `newest-own`),
    /// or `expired`.
    pub reasons: Vec<&'static str>,
}

/// Maps a time to its calendar bucket (day, ISO week or month).
type Bucket = fn(Timestamp) -> (i32, i32, i32);

/// Backups kept whatever the rules say, and why.
#[derive(Debug, Clone, Default)]
pub struct Pinned {
    /// The newest backup whose last drill passed and whose last check did not fail
    /// (`retention.keep_drilled`).
    pub drilled: Option<String>,
    /// The newest good backup written by `backup` itself (not imported) whose last check did
    /// not fail: no import, however new, can rotate it away.
    pub own: Option<String>,
}

/// `backups`: complete backups with their creation time, in any order.
pub fn plan(
    backups: &[(String, Timestamp)],
    policy: &RetentionConfig,
    now: Timestamp,
    pinned: &Pinned,
) -> Vec<Decision> {
    let mut sorted: Vec<&(String, Timestamp)> = backups.iter().collect();
    // Newest first; ties broken by id so the plan is deterministic.
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let cutoff =
        policy.keep_days.map(|d| now - jiff::SignedDuration::from_hours(24 * i64::from(d)));
    let mut decisions: Vec<Decision> = sorted
        .iter()
        .map(|(id, _)| Decision { id: id.clone(), keep: false, reasons: Vec::new() })
        .collect();

    for d in decisions.iter_mut().take(policy.keep_last as usize) {
        d.reasons.push("last");
    }
    for (d, (_, t)) in decisions.iter_mut().zip(&sorted) {
        if cutoff.is_some_and(|c| *t >= c) {
            d.reasons.push("days");
        }
    }
    let bucket_rules: [(u32, &'static str, Bucket); 3] = [
        (policy.keep_daily, "daily", |t| {
            let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
            (i32::from(d.year()), i32::from(d.month()), i32::from(d.day()))
        }),
        (policy.keep_weekly, "weekly", |t| {
            let w = t.to_zoned(jiff::tz::TimeZone::UTC).date().iso_week_date();
            (i32::from(w.year()), i32::from(w.week()), 0)
        }),
        (policy.keep_monthly, "monthly", |t| {
            let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
            (i32::from(d.year()), i32::from(d.month()), 0)
        }),
    ];
    for (count, reason, bucket) in bucket_rules {
        let mut seen = BTreeSet::new();
        for (d, (_, t)) in decisions.iter_mut().zip(&sorted) {
            if seen.len() >= count as usize {
                break;
            }
            // Newest first, so the first backup of each bucket is that bucket's newest.
            if seen.insert(bucket(*t)) {
                d.reasons.push(reason);
            }
        }
    }
    if policy.keep_drilled
        && let Some(d) = decisions.iter_mut().find(|d| Some(&d.id) == pinned.drilled.as_ref())
    {
        d.reasons.push("drilled");
    }
    if let Some(d) = decisions.iter_mut().find(|d| Some(&d.id) == pinned.own.as_ref()) {
        d.reasons.push("newest-own");
    }
    for d in &mut decisions {
        d.keep = !d.reasons.is_empty();
        if !d.keep {
            d.reasons.push("expired");
        }
    }
    decisions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn policy(days: u32, last: u32, daily: u32, weekly: u32, monthly: u32) -> RetentionConfig {
        RetentionConfig {
            keep_days: Some(days).filter(|d| *d > 0),
            keep_last: last,
            keep_daily: daily,
            keep_weekly: weekly,
            keep_monthly: monthly,
            keep_drilled: true,
        }
    }

    fn kept(plan: &[Decision]) -> Vec<&str> {
        let mut v: Vec<&str> = plan.iter().filter(|d| d.keep).map(|d| d.id.as_str()).collect();
        v.sort_unstable();
        v
    }

    /// One backup a day at 01:00 for 100 days before 2026-11-26.
    fn daily_backups() -> Vec<(String, Timestamp)> {
        let end = ts("2026-11-26T01:00:00Z");
        (0..100)
            .map(|i| (format!("b{i:03}"), end - jiff::SignedDuration::from_hours(24 * i)))
            .collect()
    }

    #[test]
    fn keep_days_and_keep_last() {
        let now = ts("2026-11-26T12:00:00Z");
        let plan = plan(&daily_backups(), &policy(30, 3, 0, 0, 0), now, &Pinned::default());
        // 30 days back from noon: b000..b029 are younger (b030 is 30d11h old).
        assert_eq!(kept(&plan).len(), 30);
        assert!(
            plan.iter()
                .find(|d| d.id == "b030")
                .is_some_and(|d| !d.keep && d.reasons == ["expired"])
        );

        // All old: keep_last still keeps the newest 3, whatever their age.
        let later = ts("2028-01-01T00:00:00Z");
        let plan =
            super::plan(&daily_backups(), &policy(30, 3, 0, 0, 0), later, &Pinned::default());
        assert_eq!(kept(&plan), ["b000", "b001", "b002"]);
    }

    #[test]
    fn gfs_rules_keep_newest_per_bucket() {
        let later = ts("2028-01-01T00:00:00Z");
        let mut backups = daily_backups();
        // A second backup on the newest day, later in that day.
        backups.push(("b000x".into(), ts("2026-11-26T13:00:00Z")));
        let plan = plan(&backups, &policy(0, 1, 2, 2, 3), later, &Pinned::default());
        // last: b000x; daily: b000x (26th), b001 (25th); weekly: ISO week 48 (Mon 23rd..): b000x,
        // week 47 → newest is Sun 22nd = b004; monthly: Nov → b000x, Oct → b026 (Oct 31), Sep → b057 (Sep 30).
        assert_eq!(kept(&plan), ["b000x", "b001", "b004", "b026", "b057"]);
        let b001 = plan.iter().find(|d| d.id == "b001").unwrap();
        assert_eq!(b001.reasons, ["daily"]);
    }

    #[test]
    fn empty_and_everything_recent() {
        assert!(
            plan(&[], &policy(30, 3, 0, 0, 0), ts("2026-01-01T00:00:00Z"), &Pinned::default())
                .is_empty()
        );
        let now = ts("2026-11-26T02:00:00Z");
        let plan = plan(&daily_backups()[..5], &policy(30, 3, 0, 0, 0), now, &Pinned::default());
        assert_eq!(kept(&plan).len(), 5);
    }
}

#[cfg(test)]
mod drilled_tests {
    use super::*;

    #[test]
    fn the_newest_drilled_backup_is_kept_whatever_the_rules_say() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let backups: Vec<(String, Timestamp)> =
            (1..=5).map(|d| (format!("b{d}"), t(&format!("2026-01-0{d}T03:00:00Z")))).collect();
        let policy =
            RetentionConfig { keep_days: None, keep_last: 2, ..RetentionConfig::default() };
        let now = t("2026-03-01T00:00:00Z");
        let kept = |p: &[Decision]| -> Vec<String> {
            p.iter().filter(|d| d.keep).map(|d| d.id.clone()).collect()
        };
        let none = Pinned::default();
        let drilled = |id: &str| Pinned { drilled: Some(id.into()), own: None };
        assert_eq!(kept(&plan(&backups, &policy, now, &none)), ["b5", "b4"]);
        let p = plan(&backups, &policy, now, &drilled("b1"));
        assert_eq!(kept(&p), ["b5", "b4", "b1"]);
        assert_eq!(p.iter().find(|d| d.id == "b1").unwrap().reasons, ["drilled"]);
        let off = RetentionConfig { keep_drilled: false, ..policy.clone() };
        assert_eq!(kept(&plan(&backups, &off, now, &drilled("b1"))), ["b5", "b4"]);
        // The newest own backup stays even when newer imports fill keep_last.
        let own = Pinned { drilled: None, own: Some("b2".into()) };
        let p = plan(&backups, &off, now, &own);
        assert_eq!(kept(&p), ["b5", "b4", "b2"]);
        assert_eq!(p.iter().find(|d| d.id == "b2").unwrap().reasons, ["newest-own"]);
    }
}

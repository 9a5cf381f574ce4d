//! The chain a restore to a point in time replays: pure, no storage.

use super::*;

fn c(from: u32, until: u32, gap: bool) -> Chunk {
    Chunk {
        format: CHUNK_FORMAT.into(),
        format_version: 1,
        database: "d".into(),
        from: ClusterTime { t: from, i: 0 },
        until: ClusterTime { t: until, i: 0 },
        file: if gap { String::new() } else { format!("{from}-{until}") },
        entries: 1,
        bytes: 1,
        sha256: String::new(),
        size: 1,
        stored_sha256: String::new(),
        encryption: None,
        created_at: String::new(),
        gap,
    }
}

fn t(s: u32) -> Ts {
    Ts { t: s, i: 0 }
}

fn files(r: Result<Vec<Chunk>, Ts>) -> Result<Vec<String>, Ts> {
    r.map(|v| v.into_iter().map(|c| c.file).collect())
}

#[test]
fn a_chain_runs_from_the_base_to_the_target_without_holes_or_gaps() {
    let a = Archived { chunks: vec![c(10, 20, false), c(20, 30, false), c(30, 40, false)] };
    // The base ends inside the first chunk; the target inside the third.
    assert_eq!(
        files(chain(&a, t(15), t(35))),
        Ok(vec!["10-20".into(), "20-30".into(), "30-40".into()])
    );
    // Chunks before the base are not needed; the target on a boundary needs no more.
    assert_eq!(files(chain(&a, t(20), t(30))), Ok(vec!["20-30".into()]));
    // The base itself is the target: nothing to replay.
    assert_eq!(files(chain(&a, t(25), t(25))), Ok(vec![]));
    // Past the last chunk: only as far as archived.
    assert_eq!(chain(&a, t(15), t(41)), Err(t(40)));
    // A base older than the first chunk: entries between are not archived.
    assert_eq!(chain(&a, t(5), t(12)), Err(t(5)));
    // A missing chunk in the middle stops the chain where the hole begins.
    let holed = Archived { chunks: vec![c(10, 20, false), c(30, 40, false)] };
    assert_eq!(chain(&holed, t(15), t(35)), Err(t(20)));
    // A gap marker is never crossed, even when chunks follow it.
    let gapped = Archived { chunks: vec![c(10, 20, false), c(20, 28, true), c(28, 40, false)] };
    assert_eq!(chain(&gapped, t(15), t(35)), Err(t(20)));
    assert_eq!(files(chain(&gapped, t(29), t(35))), Ok(vec!["28-40".into()]));
}

#[test]
fn empty_chunks_carry_the_chain_and_resume_is_the_newest_end() {
    let mut empty = c(20, 50, false);
    empty.entries = 0;
    empty.file = String::new();
    let a = Archived { chunks: vec![c(10, 20, false), empty] };
    assert_eq!(files(chain(&a, t(15), t(45))), Ok(vec!["10-20".into(), String::new()]));
    assert_eq!(chain(&a, t(15), t(51)), Err(t(50)));
    assert_eq!(a.resume(), Some(t(50)));
    assert_eq!(Archived::default().resume(), None);
}

fn spans(w: &[status::Window]) -> Vec<(u32, u32, Vec<String>)> {
    w.iter().map(|w| (w.from.ts.t, w.until.ts.t, w.bases.clone())).collect()
}

#[test]
fn restorable_windows_run_from_each_base_to_where_its_chain_stops() {
    let base = |id: &str, end: u32| (id.to_owned(), t(end));
    let chunks = Archived {
        chunks: vec![c(10, 20, false), c(20, 30, false), c(30, 45, true), c(45, 60, false)],
    };
    // b1's chain stops at the gap; b2 ends inside it (its chain cannot start: the window is
    // its end alone); b3 is after the gap; b4 inside b3's window joins it.
    let bases = [base("b3", 50), base("b1", 12), base("b2", 40), base("b4", 55)];
    assert_eq!(
        spans(&status::windows(&bases, &chunks)),
        vec![
            (12, 30, vec!["b1".to_owned()]),
            (40, 40, vec!["b2".to_owned()]),
            (50, 60, vec!["b3".to_owned(), "b4".to_owned()]),
        ]
    );
    // A missing chunk ends a window like a gap; no chunks at all, no window.
    let holed = Archived { chunks: vec![c(10, 20, false), c(25, 30, false)] };
    assert_eq!(spans(&status::windows(&[base("b", 15)], &holed)), vec![(15, 20, vec!["b".into()])]);
    assert!(status::windows(&[base("b", 15)], &Archived::default()).is_empty());
    // The gap after the newest base is open (restores cannot pass it); one before is healed.
    let s = status::summarize("local", "here".into(), &[base("b1", 12)], &chunks);
    assert_eq!(s.gaps.len(), 1);
    assert_eq!(s.open_gaps(), 1);
    let s = status::summarize("local", "here".into(), &bases, &chunks);
    assert_eq!((s.gaps.len(), s.open_gaps()), (1, 0));
    assert_eq!((s.chunks, s.entries, s.stored_bytes), (3, 3, 3));
    assert_eq!(s.last.map(|p| p.ts), Some(t(60)));
    let text = status::render(&status::Status {
        database: "d".into(),
        last_entry: s.last,
        lag_seconds: Some(7),
        storages: vec![s],
        remote_error: None,
    });
    assert!(
        text.contains("daraa_ops_pitr_last_entry_timestamp_seconds{database=\"d\"} 60\n"),
        "{text}"
    );
    assert!(
        text.contains("daraa_ops_pitr_restorable_until_timestamp_seconds{database=\"d\"} 60\n"),
        "{text}"
    );
    assert!(
        text.contains("daraa_ops_pitr_open_gaps{database=\"d\",storage=\"local\"} 0\n"),
        "{text}"
    );
    assert!(text.contains("daraa_ops_pitr_lag_seconds{database=\"d\"} 7\n"), "{text}");
}

#[test]
fn prune_takes_chunks_before_the_oldest_kept_base_but_never_the_tip() {
    let cfg = crate::config::parse_str(
        "mongodb:\n  uri: mongodb://h/\n  database: d\nbackup:\n  name_prefix: p\n",
        std::path::Path::new("c.yaml"),
    )
    .unwrap();
    let mut chunks = vec![c(10, 20, false), c(20, 25, true), c(25, 30, false), c(30, 40, false)];
    for ch in &mut chunks {
        if !ch.file.is_empty() {
            ch.file = format!(
                "p-d-oplog-{}-{}.bson.gz",
                t(ch.from.t).sortable(),
                t(ch.until.t).sortable()
            );
        }
    }
    let found = Archived { chunks };
    let data = |from: u32, until: u32, suffix: &str| {
        format!("p-d-oplog-{}-{}.bson.gz{suffix}", t(from).sortable(), t(until).sortable())
    };
    // On the listing: the chunks' data, a manifest's orphan (deletion cut short), an orphan
    // newer than the base's start, and one past the tip (a chunk being written).
    let names = vec![
        found.chunks[0].file.clone(),
        data(5, 10, ".age"),
        data(26, 28, ""),
        data(40, 45, ""),
        "p-d-20260101T000000Z.tar.gz".to_owned(),
    ];
    let ends = |p: &Prunable| p.chunks.iter().map(|c| c.until.t).collect::<Vec<_>>();
    // The oldest kept base starts at 25: the chunk up to 20 and the gap up to 25 go, and
    // the old orphan; the one at 26-28 and the tip's chunk-in-progress stay.
    let p = prunable(&cfg, &found, &names, Some(t(25)));
    assert_eq!(ends(&p), vec![20, 25]);
    assert_eq!(p.orphans, vec![data(5, 10, ".age")]);
    // Manifests before their data.
    let objects = p.objects(&cfg);
    assert_eq!(objects[0], manifest_name(&cfg, &found.chunks[0]));
    assert_eq!(objects[1], found.chunks[0].file);
    assert_eq!(objects.len(), 4, "{objects:?}");
    // A base starting after everything: all but the newest chunk (where pushing resumes).
    assert_eq!(ends(&prunable(&cfg, &found, &names, Some(t(100)))), vec![20, 25, 30]);
    // No kept point-in-time base: nothing.
    assert_eq!(prunable(&cfg, &found, &names, None), Prunable::default());
}

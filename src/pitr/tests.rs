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

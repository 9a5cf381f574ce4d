#!/usr/bin/env bash
# Hand-written mutations for the integration claims (docs/reliability.md, docs/testing.md):
# each check breaks the product (or a test helper) in one place, runs the tests that claim to
# catch it, and expects them to FAIL; the file is restored whatever happens. Prints a Markdown
# table. The selected tests first run unmutated and must pass. Not in CI (each check
# rebuilds: 9 minutes for the 30 checks on two cores, 2026-12-02).
#
#   scripts/mutation-checks.sh [ID...]     # all checks, or only these
#
# Needs the test services (scripts/services.sh up) and a clean work tree for the files touched.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh env)"

python3 - "$@" <<'PY'
import subprocess, sys, pathlib

# id | file | text to replace (exactly once) | replacement | test filter | claim
CHECKS = [
  ("R1", "src/backup/mod.rs",
   "    remove_leftovers(dir, &cfg.backup.name_prefix, &cfg.mongodb.database);\n    let (suffix, encryption)",
   "    let (suffix, encryption)",
   "crashes::backup_killed", "the next backup removes a killed one's .staging/.partial"),
  ("R2", "src/lock/mod.rs",
   "let dead_here = current.as_ref().is_some_and(|h| liveness(h) == Liveness::Dead);",
   "let dead_here = false;",
   "locks::redis_lock_of_a_killed", "a dead holder's Redis lock is taken over at once"),
  ("R3", "src/restore/temps.rs",
   "collection.contains('.') && !self.renames.dotted",
   "false && !self.renames.dotted",
   "crashes::restore_killed", "dotted names are restored (copied) where the server cannot rename them"),
  ("R4", "tests/it/support.rs",
   "    let mut last = None;\n    for _ in 0..40 {",
   "    if true {\n        return contents(db).await;\n    }\n    let mut last = None;\n    for _ in 0..40 {",
   "crashes::a_killed_process", "reads after a kill wait for the dead process's last command"),
  ("R5", "src/drill.rs",
   "tokio::time::timeout(Duration::from_secs(60), db.drop())",
   "tokio::time::timeout(Duration::from_secs(60), async { mongodb::error::Result::Ok(()) })",
   "crashes::drill_killed", "a drill always drops its scratch database"),
  ("R6", "src/backup/mod.rs",
   "    remove_leftovers(dir, &cfg.backup.name_prefix, &cfg.mongodb.database);\n    let (suffix, encryption)",
   "    let (suffix, encryption)",
   "crashes::archive_format", "an archive-format backup's next run cleans up after a kill"),
  ("R7", "src/cleanup/mod.rs",
   "sink.write_part(&info, &docs).await",
   "async { anyhow::Ok(()) }.await",
   "cleanup::sigkill_mid_archive", "archive-then-delete never deletes what it did not archive"),
  ("R8", "src/classify.rs",
   "            Outcome::Unreachable,\n            Some(\"the MongoDB server went away",
   "            Outcome::Failed,\n            Some(\"the MongoDB server went away",
   "faults::mongodb_gone_during_a_dump", "MongoDB lost mid-dump is exit 3"),
  ("R9", "src/restore/mod.rs",
   "temps::recover(db).await.context(\"cleaning up after an earlier interrupted restore\")?",
   "Vec::<String>::new()",
   "faults::mongodb_gone_during_a_restore", "the next restore drops what a cut one left"),
  ("R10", "src/backup/mod.rs",
   "            report.outcome = Outcome::Partial;\n            Ok(())",
   "            Ok(())",
   "faults::s3_gone", "a failed upload after a complete local archive is exit 5"),
  ("R11", "src/lock/mod.rs",
   "                    ttl.as_secs()\n                );\n                tracing::error!(\"{message}; stopping\");\n                crate::signal::stop_lost(&cancel, message);",
   "                    ttl.as_secs()\n                );\n                tracing::error!(\"{message}; stopping\");",
   "locks::redis_gone", "a job whose Redis lock cannot be renewed stops"),
  ("R12", "src/backup/mod.rs",
   "            let _ = std::fs::remove_file(&partial);\n            return Err(e);",
   "            return Err(e);",
   "faults::a_full_backup_disk", "a failed backup leaves no file behind"),
  ("R13", "src/backup/rekey.rs",
   "s.put_bytes(&entry.sidecar_name(), &serde_json::to_vec_pretty(&pending)?).await?;",
   "s.put_bytes(&entry.sidecar_name(), &bytes).await?;",
   "encryption::rekey_cut_off", "rekey names the new file before it replaces the old"),
  ("R14", "src/backup/rekey.rs",
   "s.put_bytes(&entry.sidecar_name(), &serde_json::to_vec_pretty(&pending)?).await?;",
   "let _ = &pending;",
   "recovery::rekey", "rekey killed between any two writes: everything complete verifies, a rerun finishes"),
  ("R15", "src/retention/prune.rs",
   "(false, vec![\"no-archive\"])",
   "(true, vec![\"no-archive\"])",
   "recovery::delete_and_prune", "a deletion killed half-way is finished by the next prune or delete"),
  ("R16", "src/backup/import.rs",
   "report.uploaded = super::finish_upload(env, &id).await?;",
   "report.uploaded = None;",
   "recovery::import", "an import killed before its upload is finished by a rerun"),
  ("R17", "src/lock/process.rs",
   "        || differs(&h.pid_ns, &here.pid_ns)\n",
   "        || false\n",
   "locks::a_holder_in_another", "a holder in another PID namespace keeps its lock"),
  ("R18", "src/lock/process.rs",
   "Some(s) if s.state == 'Z' || s.state == 'X' => Liveness::Dead,",
   "Some(s) if s.state == 'X' => Liveness::Dead,",
   "locks::a_killed_holder", "a zombie holds no lock"),
  ("R19", "src/backup/pipeline.rs",
   "key: target.recipients.map(|_| Arc::new(EphemeralKey::generate())),",
   "key: None,",
   "encryption::no_plaintext", "no plaintext on disk, staging included"),
  ("R20", "src/repo/open.rs",
   "crypt::OpenError::NoMatchingKey => crate::error::KeyError::wrap(CliError::new(\n                crate::error::Outcome::Drift,",
   "crypt::OpenError::NoMatchingKey => crate::error::KeyError::wrap(CliError::new(\n                crate::error::Outcome::Usage,",
   "encryption::missing_wrong", "a key that does not open the archive is exit 6"),
  ("R21", "src/archive/tar/reader.rs",
   "*p == \".\" || *p == \"..\"",
   "*p == \".\"",
   "hostile::", "a member path with .. is refused"),
  ("R22", "src/backup/import.rs",
   "    if time <= now + CLOCK_SKEW || (from == TimeFrom::Option && allow_future) {",
   "    if true {",
   "first_week::imports", "an import from the future is refused"),
  ("R23", "src/config/validate.rs",
   "    if SYSTEM_DATABASES.contains(&name) {",
   "    if false {",
   "first_week::restore_targets", "admin, local and config are never a restore's target"),
  ("R24", "src/repo/resolve.rs",
   "        if std::io::stdin().is_terminal() {",
   "        if false {",
   "first_week::input_that", "restore - refuses a terminal"),
  ("R25", "src/config/validate.rs",
   "        if value > MAX_DAYS {",
   "        if false {",
   "first_week::rough_edges", "values the tool cannot compute with are refused at load"),
  ("R26", "src/classify.rs",
   "    if e.chain().any(|c| c.downcast_ref::<KeyError>().is_some()) {",
   "    if false {",
   "first_week::check_records", "a key error is not recorded as the backup's failure"),
  ("R27", "src/mask/mod.rs",
   "        scan_document(self, &mut doc, \"\", &covered, counts);",
   "        let _ = (&covered, &counts);",
   "masking::", "personal data in free text is masked"),
  ("R28", "src/restore/swap.rs",
   "                SwapMode::TwoStep if *existed => {",
   "                SwapMode::TwoStep if false => {",
   "restore::a_writer", "the two-step swap never loses the original data"),
  ("R29", "src/classify.rs",
   "    if let Some(lost) = crate::signal::lost() {",
   "    if let Some(lost) = None::<String> {",
   "locks::redis_gone", "a lost lock is exit 3 naming it"),
  ("R30", "src/commands/stats.rs",
   "            dir.map_or(Ok(()), std::fs::create_dir_all)\n",
   "            Ok::<(), std::io::Error>(())\n",
   "walkthrough", "the first night runs as written (stats --out makes its folder)"),
  ("R31", "src/pitr/status.rs",
   "open: newest_base.is_none_or(|b| c.until_ts() > b),",
   "open: false,",
   "pitr::a_pusher_that_comes", "a gap no base backup covers is open in pitr status and its metrics"),
  ("R32", "src/pitr/status.rs",
   "let reach = chain(found, end, Ts { t: u32::MAX, i: u32::MAX }).err().unwrap_or(end);",
   "let reach = end;",
   "pitr::pitr_push_archives", "pitr status's windows reach as far as the chunk chain"),
  ("R33", "src/drill.rs",
   "        mask,\n        progress: crate::output::progress::Progress::new(env.out),\n        point_in_time,\n",
   "        mask,\n        progress: crate::output::progress::Progress::new(env.out),\n        point_in_time: point_in_time.filter(|_| false),\n",
   "pitr::pitr_push_archives", "drill --to-time replays the chunks (its counts are the source's at T)"),
  ("R35", "src/pitr/push.rs",
   "            if !built.data.is_empty() {\n                s.put_bytes(&built.chunk.file, &built.data).await?;\n            }\n            put_manifest(env.cfg, s, &built.chunk).await\n",
   "            put_manifest(env.cfg, s, &built.chunk).await?;\n            if !built.data.is_empty() {\n                s.put_bytes(&built.chunk.file, &built.data).await?;\n            }\n            anyhow::Ok(())\n",
   "pitr::a_pusher_killed", "a killed pusher never leaves a chunk manifest without its data"),
  ("R36", "src/pitr/push.rs",
   "            Err(e) if i == 0 || env.cancel.is_cancelled() => return Err(e),",
   "            Err(e) if i < 9 || env.cancel.is_cancelled() => return Err(e),",
   "pitr::s3_cut", "S3 failing does not stop local archiving (exit 5, copied next run)"),
  ("R34", "src/pitr/push.rs",
   "let Some(raw) = crate::oplog::only_taken(&raw, &entry, &db, &takes)? else {",
   "let _ = &takes;\n        let Some(raw) = Some(raw) else {",
   "pitr::pitr_push_archives", "excluded collections' entries are not archived or replayed"),
]

wanted = set(sys.argv[1:])
rows = []
# The baseline: every selected test passes on the unmutated tree, so that a failure under a
# mutation is the mutation's doing (a missing service would otherwise look like a kill).
filters = sorted({c[4] for c in CHECKS if not wanted or c[0] in wanted})
r = subprocess.run(["cargo", "test", "--quiet", "--test", "it", "--", *filters],
                   capture_output=True, text=True)
if r.returncode != 0:
    print(r.stdout[-4000:], r.stderr[-4000:], sep="\n", file=sys.stderr)
    sys.exit("baseline: the selected tests fail without any mutation; fix that first")
print(f"baseline: {len(filters)} filters pass unmutated", file=sys.stderr, flush=True)
for cid, path, old, new, test, claim in CHECKS:
    if wanted and cid not in wanted:
        continue
    p = pathlib.Path(path)
    text = p.read_text()
    n = text.count(old)
    if n != 1:
        rows.append((cid, path, test, claim, f"NOT APPLIED (text found {n} times)"))
        continue
    p.write_text(text.replace(old, new))
    try:
        r = subprocess.run(["cargo", "test", "--quiet", "--test", "it", "--", test],
                           capture_output=True, text=True)
        if r.returncode == 0:
            result = "SURVIVED"
        elif "error[E" in r.stderr or "could not compile" in r.stderr:
            result = "DID NOT BUILD"
        else:
            result = "killed"
    finally:
        p.write_text(text)
    print(f"{cid}: {result}", file=sys.stderr, flush=True)
    rows.append((cid, path, test, claim, result))

print("| id | mutation in | claim | test | result |")
print("|---|---|---|---|---|")
for cid, path, test, claim, result in rows:
    print(f"| {cid} | `{path}` | {claim} | `{test}` | {result} |")
bad = [r for r in rows if r[4] != "killed"]
sys.exit(1 if bad else 0)
PY

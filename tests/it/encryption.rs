//! Encryption at rest with age (docs/encryption.md): archives in both formats, locally and in
//! S3, open with the reference `age` tool and restore with `tar`/`mongorestore`; no plaintext
//! file appears while a backup or a restore runs; keyless verify checks the stored file; bad
//! keys and tampered files exit with their codes and change nothing; `rekey` rotates every
//! copy; cleanup parts are encrypted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, contents, peer, services, split_bson};

const MAGIC: &[u8] = b"age-encryption.org/v1\n";

struct Key {
    file: PathBuf,
    public: String,
}

/// A new identity made by the reference `age-keygen` (mode 0600).
fn keygen(dir: &Path, name: &str) -> Option<Key> {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = peer("age-keygen")?;
    let file = dir.join(name);
    let o = Command::new(&bin).arg("-o").arg(&file).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = Command::new(&bin).arg("-y").arg(&file).output().unwrap();
    let public = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(public.starts_with("age1"), "{public}");
    Some(Key { file, public })
}

/// `age -d -i KEY FILE`: the plaintext, as the reference tool decrypts it.
fn age_decrypt(key: &Key, file: &Path) -> Vec<u8> {
    let bin = peer("age").expect("age");
    let o = Command::new(bin).arg("-d").arg("-i").arg(&key.file).arg(file).output().unwrap();
    assert!(
        o.status.success(),
        "age -d {}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// Rewrites the job's config with this `backup.encryption` block (and `more` backup keys).
fn configure(job: &Job, base: &str, recipients: &[&Key], identities: &[&Path], more: &str) {
    let list = |v: Vec<String>| format!("[{}]", v.join(", "));
    let block = format!(
        "  name_prefix: daraa\n{more}  encryption:\n    recipients: {}\n    identity_files: {}\n",
        list(recipients.iter().map(|k| k.public.clone()).collect()),
        list(identities.iter().map(|p| format!("'{}'", p.display())).collect()),
    );
    std::fs::write(&job.config, base.edit_all("  name_prefix: daraa\n", &block)).unwrap();
}

/// Watches a folder tree every 2 ms while a job runs: every file of 22 bytes or more, except
/// lock files, staging owner files and sidecars (no documents), must be an age file.
struct Watcher {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<(BTreeSet<String>, Vec<String>)>,
}

impl Watcher {
    fn start(dir: &Path) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, dir) = (Arc::clone(&stop), dir.to_path_buf());
        let handle = std::thread::spawn(move || {
            let mut seen = BTreeSet::new();
            let mut plaintext = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                scan(&dir, &mut seen, &mut plaintext);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            scan(&dir, &mut seen, &mut plaintext);
            (seen, plaintext)
        });
        Watcher { stop, handle }
    }

    /// Names seen, and files that held something other than an age file.
    fn finish(self) -> (BTreeSet<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap()
    }
}

fn scan(dir: &Path, seen: &mut BTreeSet<String>, plaintext: &mut Vec<String>) {
    use std::io::Read as _;
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            scan(&path, seen, plaintext);
            continue;
        }
        seen.insert(name.clone());
        // (and their atomic-write temporaries)
        if name.ends_with(".lock")
            || name.contains("owner.json")
            || name.contains(".manifest.json")
            || name.contains(".checks.json")
        {
            continue;
        }
        let mut head = [0u8; 22];
        let Ok(mut f) = std::fs::File::open(&path) else { continue };
        let shown = path.display().to_string();
        if f.read_exact(&mut head).is_ok() && head != MAGIC && !plaintext.contains(&shown) {
            plaintext.push(shown);
        }
    }
}

fn sidecar(job: &Job, id: &str) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(job.backup_dir.join(format!("{id}.manifest.json"))).unwrap(),
    )
    .unwrap()
}

fn recipients_of(v: &serde_json::Value) -> Vec<String> {
    v["encryption"]["recipients"]
        .as_array()
        .unwrap_or_else(|| panic!("no encryption in {v}"))
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

fn mongorestore_args(job: &Job, target: &str) -> Vec<String> {
    let tools = crate::support::secret_file(
        job.dir.path(),
        "tools.yaml",
        &format!("uri: '{}'\n", job.services.mongo_uri),
    );
    vec![
        format!("--config={}", tools.display()),
        "--noIndexRestore".into(),
        format!("--nsFrom={}.*", job.database),
        format!("--nsTo={target}.*"),
    ]
}

/// A key made with the age crate (no reference tool needed), written 0600.
fn crate_key(dir: &Path, name: &str) -> Key {
    let identity = age::x25519::Identity::generate();
    let file = crate::support::secret_file(
        dir,
        name,
        age::secrecy::ExposeSecret::expose_secret(&identity.to_string()),
    );
    Key { file, public: identity.to_public().to_string() }
}

/// No plaintext reaches the disk — staging included — during a tar backup, an archive-format
/// backup and a restore: a watcher reads every file of the backup folder every 2 ms. Needs no
/// peer tool, so it runs wherever the suite runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_reaches_the_disk_during_backups_and_restores() {
    let Some(s) = services() else { return };
    let job = Job::new("encwatch", &s, &JobOptions::default());
    let key = crate_key(job.dir.path(), "k.key");
    let base = std::fs::read_to_string(&job.config).unwrap();
    configure(&job, &base, &[&key], &[&key.file], "");
    job.seed(0.01, false).await;
    // The last one, a .tar.zst.age, is the one restored below.
    let formats = [("", true), ("  format: archive\n", false), ("  compression: zstd\n", true)];
    for (more, staged) in formats {
        configure(&job, &base, &[&key], &[&key.file], more);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let watch = Watcher::start(&job.backup_dir);
        let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
        let (seen, plaintext) = watch.finish();
        assert_eq!(code, 0, "{stderr}");
        assert!(plaintext.is_empty(), "plaintext on disk during the backup: {plaintext:?}");
        if staged {
            // The watcher saw the staged files (else it proved nothing).
            let ext = if more.contains("zstd") { ".bson.zst" } else { ".bson.gz" };
            assert!(seen.iter().any(|n| n.ends_with(ext)), "no staged {ext} file seen: {seen:?}");
        }
        let file = v["archive"]["file"].as_str().unwrap();
        assert!(std::fs::read(job.backup_dir.join(file)).unwrap().starts_with(MAGIC));
        let suffix = if more.contains("zstd") { ".tar.zst.age" } else { ".age" };
        assert!(file.ends_with(suffix), "{file}");
    }
    let source = contents(&job.client().await.database(&job.database)).await;
    let target = format!("{}_r", job.database);
    let watch = Watcher::start(&job.backup_dir);
    let (code, _, stderr) = job.json(&["restore", "latest", "--target-db", &target]);
    let (_, plaintext) = watch.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(plaintext.is_empty(), "{plaintext:?}");
    let restored = contents(&job.client().await.database(&target)).await;
    assert!(restored == source, "the .tar.zst.age restored other documents");
    job.client().await.database(&target).drop().await.unwrap();
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_backups_in_both_formats_open_with_age_and_restore() {
    let Some(s) = services() else { return };
    let Some(mongorestore) = peer("mongorestore") else { return };
    let job = Job::new("enc", &s, &JobOptions { s3: true, ..JobOptions::default() });
    let (Some(daily), Some(recovery)) =
        (keygen(job.dir.path(), "a.key"), keygen(job.dir.path(), "b.key"))
    else {
        return;
    };
    let base = std::fs::read_to_string(&job.config).unwrap();
    // The daily key and an offline recovery key; this host holds the daily one.
    configure(&job, &base, &[&daily, &recovery], &[&daily.file], "");
    job.seed(0.01, true).await;
    let client = job.client().await;
    let source = contents(&client.database(&job.database)).await;

    // The tar layout: staging and archive watched while the backup runs.
    let watch = Watcher::start(&job.backup_dir);
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    let (seen, plaintext) = watch.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(plaintext.is_empty(), "plaintext on disk during the backup: {plaintext:?}");
    let id = v["id"].as_str().unwrap().to_owned();
    let file = v["archive"]["file"].as_str().unwrap().to_owned();
    assert_eq!(file, format!("{id}.tar.gz.age"));
    assert!(seen.iter().any(|n| n.ends_with(".bson.gz")), "no staged file seen: {seen:?}");
    assert_eq!(recipients_of(&v["archive"]), [daily.public.clone(), recovery.public.clone()]);
    let kinds: Vec<&str> =
        v["locations"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["local", "s3"]);
    let path = job.backup_dir.join(&file);
    assert!(std::fs::read(&path).unwrap().starts_with(MAGIC));
    let sc = sidecar(&job, &id);
    assert_eq!(recipients_of(&sc["archive"]), [daily.public.clone(), recovery.public.clone()]);
    assert!(!sc.to_string().contains("AGE-SECRET-KEY"), "a secret in the sidecar");

    // The reference tool opens it with the recovery key; tar and mongorestore take it from there.
    let plain = age_decrypt(&recovery, &path);
    let out = tempfile::tempdir().unwrap();
    let mut tar = Command::new("tar")
        .arg("xzf")
        .arg("-")
        .arg("-C")
        .arg(out.path())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &plain).unwrap();
    drop(tar.stdin.take());
    assert!(tar.wait().unwrap().success());
    let target = format!("{}_t", job.database);
    let o = Command::new(&mongorestore)
        .args(mongorestore_args(&job, &target))
        .arg(format!("--dir={}", out.path().display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(contents(&client.database(&target)).await == source, "age | tar | mongorestore");
    client.database(&target).drop().await.unwrap();

    // daraa-ops restores it with the daily key; nothing new reaches the backup folder.
    let files = || -> Vec<String> {
        job.local_files().into_iter().filter(|f| !f.ends_with(".lock")).collect()
    };
    let before = files();
    let watch = Watcher::start(&job.backup_dir);
    let target = format!("{}_r", job.database);
    let (code, _, stderr) = job.json(&["restore", "latest", "--target-db", &target]);
    let (_, plaintext) = watch.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(plaintext.is_empty(), "{plaintext:?}");
    assert_eq!(files(), before, "the restore wrote into the backup folder");
    assert!(contents(&client.database(&target)).await == source, "restore of an encrypted backup");
    client.database(&target).drop().await.unwrap();
    let (code, v, stderr) = job.json(&["verify", "latest"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["encryption"]["contents_checked"], true, "{v}");
    let (code, v, stderr) = job.json(&["drill"]);
    assert_eq!(code, 0, "{v} {stderr}");

    // Without a key: list and verify (the stored file against the sidecar) still work.
    configure(&job, &base, &[&daily, &recovery], &[], "");
    let (code, v, stderr) = job.json(&["verify", "latest"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["encryption"]["contents_checked"], false, "{v}");
    assert_eq!(v["archive"]["sha256"], sc["archive"]["sha256"]);
    let (code, list, _) = job.json(&["list"]);
    assert_eq!(code, 0);
    assert_eq!(list["backups"][0]["complete"], true, "{list}");

    // mongodump's archive format, kept locally: `age -d | mongorestore --archive --gzip`.
    configure(&job, &base, &[&daily], &[&daily.file], "  format: archive\n");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let watch = Watcher::start(&job.backup_dir);
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    let (_, plaintext) = watch.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(plaintext.is_empty(), "{plaintext:?}");
    let file = v["archive"]["file"].as_str().unwrap().to_owned();
    assert!(file.ends_with(".archive.gz.age"), "{file}");
    let plain = age_decrypt(&daily, &job.backup_dir.join(&file));
    let target = format!("{}_m", job.database);
    let mut restore = Command::new(&mongorestore)
        .args(mongorestore_args(&job, &target))
        .args(["--archive", "--gzip"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(restore.stdin.as_mut().unwrap(), &plain).unwrap();
    drop(restore.stdin.take());
    let o = restore.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(contents(&client.database(&target)).await == source, "age | mongorestore --archive");
    client.database(&target).drop().await.unwrap();

    // Streamed straight to S3 (nothing local): verified and restored from S3.
    configure(&job, &base, &[&daily], &[&daily.file], "  format: archive\n  keep_local: false\n");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let id = v["id"].as_str().unwrap().to_owned();
    let url = v["locations"][0]["url"].as_str().unwrap();
    assert!(url.ends_with(".archive.gz.age"), "{url}");
    let stored = job.s3().await.get_bytes(&format!("{id}.archive.gz.age")).await.unwrap().unwrap();
    assert!(stored.starts_with(MAGIC));
    let (code, v, stderr) = job.json(&["verify", &id]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["encryption"]["contents_checked"], true);
    let target = format!("{}_s", job.database);
    let (code, _, stderr) = job.json(&["restore", &id, "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(contents(&client.database(&target)).await == source, "restore from S3");
    client.database(&target).drop().await.unwrap();
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_wrong_and_tampered_keys_exit_with_their_codes_and_change_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(s) = services() else { return };
    let job = Job::new("encbad", &s, &JobOptions::default());
    let (Some(daily), Some(other)) =
        (keygen(job.dir.path(), "a.key"), keygen(job.dir.path(), "c.key"))
    else {
        return;
    };
    let base = std::fs::read_to_string(&job.config).unwrap();
    configure(&job, &base, &[&daily], &[&daily.file], "");
    job.seed(0.01, false).await;
    let client = job.client().await;
    let live = contents(&client.database(&job.database)).await;
    let (code, v, stderr) = job.json(&["backup"]);
    assert_eq!(code, 0, "{stderr}");
    let path = job.backup_dir.join(v["archive"]["file"].as_str().unwrap());
    let target = format!("{}_x", job.database);
    let databases = async || client.list_database_names().await.unwrap();

    // No identity on the restoring side: exit 2, naming the archive's recipients.
    configure(&job, &base, &[], &[], "");
    let r = job.run(&["restore", "latest", "--target-db", &target], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("is encrypted with age") && r.stderr.contains(&daily.public),
        "{}",
        r.stderr
    );
    // A missing identity file, and one that holds no key: exit 2, naming the file.
    let r =
        job.run(&["verify", "latest"], &[("DARAA_OPS_AGE_IDENTITY_FILE", "/nonexistent/a.key")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("/nonexistent/a.key"), "{}", r.stderr);
    assert!(r.stderr.contains(&daily.public), "the recipients are not named: {}", r.stderr);
    let junk = crate::support::secret_file(job.dir.path(), "junk.key", "not a key\n");
    let r =
        job.run(&["verify", "latest"], &[("DARAA_OPS_AGE_IDENTITY_FILE", junk.to_str().unwrap())]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(junk.to_str().unwrap()), "{}", r.stderr);
    assert!(r.stderr.contains(&daily.public), "{}", r.stderr);
    assert!(!r.stderr.contains("not a key"), "the file's content echoed: {}", r.stderr);
    // A readable-by-others identity works, with the warning every secret gets.
    let loose = job.dir.path().join("loose.key");
    std::fs::copy(&daily.file, &loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r =
        job.run(&["verify", "latest"], &[("DARAA_OPS_AGE_IDENTITY_FILE", loose.to_str().unwrap())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("readable by group or others"), "{}", r.stderr);
    assert!(!r.stderr.contains("AGE-SECRET-KEY"), "{}", r.stderr);
    // Another key: exit 6, naming the recipients it was made for.
    configure(&job, &base, &[&daily], &[&other.file], "");
    let r = job.run(&["restore", "latest", "--target-db", &target], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("no configured identity opens") && r.stderr.contains(&daily.public));
    assert!(!databases().await.contains(&target), "a database was created");

    // A flipped byte in the payload: verify and restore exit 6; the live data stays as it was.
    configure(&job, &base, &[&daily], &[&daily.file], "");
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let r = job.run(&["verify", "latest"], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("fails authentication"), "{}", r.stderr);
    let r = job.run(&["restore", "latest", "--drop", "--yes"], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        contents(&client.database(&job.database)).await == live,
        "a tampered restore changed data"
    );
    configure(&job, &base, &[&daily], &[], "");
    let r = job.run(&["verify", "latest"], &[]);
    assert_eq!(r.code, 6, "keyless verify of a tampered file: {}", r.stderr);
    // A flipped byte in the header.
    configure(&job, &base, &[&daily], &[&daily.file], "");
    let mut bad = good.clone();
    bad[40] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let r = job.run(&["verify", "latest"], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    // Cut short.
    std::fs::write(&path, &good[..good.len() - 100]).unwrap();
    let r = job.run(&["restore", "latest", "--target-db", &target], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(!databases().await.contains(&target), "a database was created");
    std::fs::write(&path, &good).unwrap();
    let r = job.run(&["verify", "latest"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // import of an encrypted archive from elsewhere: the identity opens it; without one, exit 2.
    let elsewhere = job.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let copy = elsewhere.join(path.file_name().unwrap());
    std::fs::copy(&path, &copy).unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    let (code, _, stderr) = job.json(&["--yes", "delete", "--force", &id]);
    assert_eq!(code, 0, "{stderr}");
    configure(&job, &base, &[&daily], &[], "");
    let r = job.run(&["import", copy.to_str().unwrap(), "--no-upload"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is encrypted with age"), "{}", r.stderr);
    configure(&job, &base, &[&daily], &[&daily.file], "");
    let (code, v, stderr) = job.json(&["import", copy.to_str().unwrap(), "--no-upload"]);
    assert_eq!(code, 0, "{stderr}");
    let imported = v["backup"]["archive"]["file"].as_str().unwrap();
    assert!(imported.ends_with(".tar.gz.age"), "{v}");
    let target = format!("{}_i", job.database);
    let (code, _, stderr) = job.json(&["restore", "latest", "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(contents(&client.database(&target)).await == live, "restore of the imported backup");
    client.database(&target).drop().await.unwrap();
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_rotates_every_copy_after_proving_the_new_file_opens() {
    let Some(s) = services() else { return };
    let job = Job::new("rekey", &s, &JobOptions { s3: true, ..JobOptions::default() });
    let (Some(daily), Some(recovery)) =
        (keygen(job.dir.path(), "a.key"), keygen(job.dir.path(), "b.key"))
    else {
        return;
    };
    let base = std::fs::read_to_string(&job.config).unwrap();
    job.seed(0.01, false).await;
    let client = job.client().await;
    let source = contents(&client.database(&job.database)).await;
    // One backup from before encryption was on, one encrypted to the old key.
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let plain_id = v["id"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    configure(&job, &base, &[&daily], &[&daily.file], "");
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let old_id = v["id"].as_str().unwrap().to_owned();

    // The new key's identity is needed to prove the new files open.
    configure(&job, &base, &[&recovery], &[&daily.file], "");
    let r = job.run(&["rekey"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    configure(&job, &base, &[&recovery], &[&daily.file, &recovery.file], "");
    let before: Vec<(String, Vec<u8>)> = job
        .local_files()
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(job.backup_dir.join(&f)).unwrap()))
        .collect();
    let (code, v, stderr) = job.json(&["rekey", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["rekeyed"].as_array().unwrap().len(), 2, "{v}");
    let after: Vec<(String, Vec<u8>)> = job
        .local_files()
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(job.backup_dir.join(&f)).unwrap()))
        .collect();
    assert!(before == after, "a dry run changed files");

    let (code, v, stderr) = job.json(&["rekey"]);
    assert_eq!(code, 0, "{stderr}");
    let done: Vec<(&str, Vec<&str>)> = v["rekeyed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let storages = r["storages"].as_array().unwrap().iter().map(|s| s.as_str().unwrap());
            (r["id"].as_str().unwrap(), storages.collect())
        })
        .collect();
    assert_eq!(
        done,
        [(plain_id.as_str(), vec!["local", "s3"]), (old_id.as_str(), vec!["local", "s3"])]
    );
    let lock = format!(".daraa-ops-{}.lock", job.database);
    let mut expected = vec![lock];
    for id in [&plain_id, &old_id] {
        expected.push(format!("{id}.manifest.json"));
        expected.push(format!("{id}.tar.gz.age"));
        assert_eq!(
            recipients_of(&sidecar(&job, id)["archive"]),
            std::slice::from_ref(&recovery.public)
        );
        let plain = age_decrypt(&recovery, &job.backup_dir.join(format!("{id}.tar.gz.age")));
        assert!(plain.starts_with(&[0x1f, 0x8b]), "not the gzip stream");
    }
    expected.sort();
    assert_eq!(job.local_files(), expected);
    let store = job.s3().await;
    let objects = store.list().await.unwrap();
    let names: BTreeSet<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    assert!(!names.contains(format!("{plain_id}.tar.gz").as_str()), "{names:?}");
    for id in [&plain_id, &old_id] {
        let stored = store.get_bytes(&format!("{id}.tar.gz.age")).await.unwrap().unwrap();
        assert!(stored.starts_with(MAGIC));
        assert_eq!(stored, std::fs::read(job.backup_dir.join(format!("{id}.tar.gz.age"))).unwrap());
    }

    // Only the new key opens them now, locally and in S3 (an empty backup folder: S3 is read).
    configure(&job, &base, &[&recovery], &[&daily.file], "");
    let r = job.run(&["verify", &old_id], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    configure(&job, &base, &[&recovery], &[&recovery.file], "");
    let empty = job.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for id in [&plain_id, &old_id] {
        let r = job.run(&["verify", id], &[("DARAA_OPS_BACKUP_DIR", empty.to_str().unwrap())]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(id.as_str()), "{}", r.stdout);
    }
    let target = format!("{}_k", job.database);
    let (code, _, stderr) = job.json(&["restore", &plain_id, "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(contents(&client.database(&target)).await == source);
    client.database(&target).drop().await.unwrap();

    // Run again: nothing to do.
    configure(&job, &base, &[&recovery], &[&recovery.file], "");
    let (code, v, stderr) = job.json(&["rekey"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["rekeyed"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["unchanged"].as_array().unwrap().len(), 2, "{v}");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_parts_are_encrypted_locally_and_in_s3() {
    use bson::doc;
    let Some(s) = services() else { return };
    let job = Job::new(
        "encclean",
        &s,
        &JobOptions {
            s3: true,
            extra: "cleanup:
  batch_size: 40
  rules:
    - {name: audit-local, collection: auditlogs, age_field: createdAt, older_than: 365d, action: archive, archive_to: local, archive_dir: archive}
    - {name: events-s3, collection: events, age_field: createdAt, older_than: 365d, action: archive, archive_to: s3}
"
            .into(),
            ..JobOptions::default()
        },
    );
    let Some(daily) = keygen(job.dir.path(), "a.key") else { return };
    let base = std::fs::read_to_string(&job.config).unwrap();
    configure(&job, &base, &[&daily], &[&daily.file], "");
    let db = job.db().await;
    let old =
        bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 400 * 86_400_000);
    for coll in ["auditlogs", "events"] {
        let docs: Vec<bson::Document> = (0..100)
            .map(|i| doc! {"n": i, "secret": format!("person{i}@example.com"), "createdAt": old})
            .collect();
        db.collection::<bson::Document>(coll).insert_many(docs).await.unwrap();
    }
    let (code, v, stderr) = job.json(&["cleanup"]);
    assert_eq!(code, 0, "{v} {stderr}");

    // Local parts: age files only; the reference tool opens them into the archived documents.
    let mut local = Vec::new();
    let runs = job.dir.path().join("archive").join(&job.database).join("audit-local");
    for run in std::fs::read_dir(&runs).unwrap() {
        for f in std::fs::read_dir(run.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(!name.ends_with(".bson.gz"), "a plaintext part: {name}");
            if name.ends_with(".bson.gz.age") {
                assert!(std::fs::read(&p).unwrap().starts_with(MAGIC));
                local.push(age_decrypt(&daily, &p));
            }
        }
    }
    let count = |parts: &[Vec<u8>]| -> usize {
        parts
            .iter()
            .map(|gz| {
                let mut raw = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut raw)
                    .unwrap();
                split_bson(&raw).len()
            })
            .sum()
    };
    assert_eq!((local.len(), count(&local)), (3, 100));

    // S3 parts: the same.
    let store = job.s3().await;
    let names = store.list_under(&format!("cleanup/{}/events-s3/", job.database)).await.unwrap();
    let mut remote = Vec::new();
    for n in &names {
        assert!(!n.ends_with(".bson.gz"), "a plaintext part in S3: {n}");
        if n.ends_with(".bson.gz.age") {
            let bytes = store.get_bytes(n).await.unwrap().unwrap();
            assert!(bytes.starts_with(MAGIC));
            let tmp = job.dir.path().join("part.age");
            std::fs::write(&tmp, &bytes).unwrap();
            remote.push(age_decrypt(&daily, &tmp));
        }
    }
    assert_eq!((remote.len(), count(&remote)), (3, 100));
    assert_eq!(
        db.collection::<bson::Document>("events").count_documents(doc! {}).await.unwrap(),
        0
    );
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_cut_off_from_s3_keeps_every_old_copy_and_a_rerun_finishes() {
    use crate::faults::{Proxy, port_of};
    let Some(s) = services() else { return };
    let job = Job::new("rekeycut", &s, &JobOptions { s3: true, ..JobOptions::default() });
    let (Some(daily), Some(recovery)) =
        (keygen(job.dir.path(), "a.key"), keygen(job.dir.path(), "b.key"))
    else {
        return;
    };
    let base = std::fs::read_to_string(&job.config).unwrap();
    configure(&job, &base, &[&daily], &[&daily.file], "");
    job.seed(0.01, false).await;
    let (code, v, stderr) = job.json(&["backup"]);
    assert_eq!(code, 0, "{stderr}");
    let id = v["id"].as_str().unwrap().to_owned();
    let name = format!("{id}.tar.gz.age");
    let store = job.s3().await;
    let local_before = std::fs::read(job.backup_dir.join(&name)).unwrap();
    let sidecar_before = std::fs::read(job.backup_dir.join(format!("{id}.manifest.json"))).unwrap();
    let s3_before = store.get_bytes(&name).await.unwrap().unwrap();
    assert!(local_before.len() > 30_000, "the archive is too small to cut mid-upload");

    // S3 through a proxy that cuts the connection after 20 kB sent: mid-upload of the new file.
    configure(&job, &base, &[&recovery], &[&daily.file, &recovery.file], "");
    let proxy = Proxy::start(port_of(&s.s3_endpoint), 20_000, u64::MAX);
    job.edit_config(&s.s3_endpoint, &format!("http://127.0.0.1:{}", proxy.port));
    let r = job.run(&["rekey"], &[]);
    assert_eq!(r.code, 3, "S3 lost: {}", r.stderr);
    assert!(r.stderr.contains("run `daraa-ops rekey` again to finish"), "{}", r.stderr);
    assert_eq!(std::fs::read(job.backup_dir.join(&name)).unwrap(), local_before);
    assert_eq!(
        std::fs::read(job.backup_dir.join(format!("{id}.manifest.json"))).unwrap(),
        sidecar_before
    );
    assert_eq!(store.get_bytes(&name).await.unwrap().unwrap(), s3_before, "S3 copy changed");
    // S3's sidecar already names the file that was to replace it (the upload never finished):
    // the stored one is still the old, and verifies from S3 too.
    let s3_sidecar: serde_json::Value = serde_json::from_slice(
        &store.get_bytes(&format!("{id}.manifest.json")).await.unwrap().unwrap(),
    )
    .unwrap();
    assert_eq!(
        recipients_of(&s3_sidecar["archive"]["replacing"]),
        std::slice::from_ref(&recovery.public)
    );
    assert!(!job.local_files().iter().any(|f| f.contains(".rekey")), "{:?}", job.local_files());
    let r = job.run(&["verify", &id], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // S3 back: the rerun re-encrypts both copies.
    configure(&job, &base, &[&recovery], &[&daily.file, &recovery.file], "");
    let (code, v, stderr) = job.json(&["rekey"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["rekeyed"][0]["storages"], serde_json::json!(["local", "s3"]), "{v}");
    let local_after = std::fs::read(job.backup_dir.join(&name)).unwrap();
    assert_ne!(local_after, local_before);
    assert_eq!(store.get_bytes(&name).await.unwrap().unwrap(), local_after);
    assert!(age_decrypt(&recovery, &job.backup_dir.join(&name)).starts_with(&[0x1f, 0x8b]));
    job.drop_database().await;
}

//! Shared test helpers: the test services' coordinates, the binary runner, secret files.
//!
//! Every run of the binary goes through [`run`], which asserts that no known secret (the test
//! services' passwords, and any registered with [`register_secret`]) appears in its stdout or
//! stderr: that is the suite-wide "no secret in any output" check.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{LazyLock, Mutex};

/// Where the test services are. Missing variables fail the test: set them with
/// `eval "$(scripts/services.sh env)"`. `DARAA_TEST_SKIP_SERVICES=1` (never under CI) skips.
#[derive(Debug, Clone)]
pub struct Services {
    pub mongo_uri: String,
    pub mongo_user: String,
    pub mongo_password: String,
    pub redis_url_no_auth: String,
    pub redis_password: String,
    pub s3_endpoint: String,
    pub s3_bucket: String,
}

pub fn services() -> Option<Services> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(mongo_uri), Some(redis_url), Some(s3_endpoint), Some(s3_bucket)) = (
        get("DARAA_TEST_MONGODB_URI"),
        get("DARAA_TEST_REDIS_URL"),
        get("DARAA_TEST_S3_ENDPOINT"),
        get("DARAA_TEST_S3_BUCKET"),
    ) else {
        let ci = get("CI").is_some_and(|v| v == "true");
        if !ci && get("DARAA_TEST_SKIP_SERVICES").as_deref() == Some("1") {
            skipped("services", "DARAA_TEST_SKIP_SERVICES=1: this test needs the test services");
            return None;
        }
        panic!(
            "test services not configured (DARAA_TEST_MONGODB_URI, DARAA_TEST_REDIS_URL, \
             DARAA_TEST_S3_ENDPOINT, DARAA_TEST_S3_BUCKET); run: scripts/services.sh up && \
             eval \"$(scripts/services.sh env)\""
        );
    };
    let (mongo_user, mongo_password) =
        userinfo(&mongo_uri).expect("DARAA_TEST_MONGODB_URI has user:password");
    let (_, redis_password) = userinfo(&redis_url).expect("DARAA_TEST_REDIS_URL has :password");
    let redis_url_no_auth = redis_url.replacen(&format!(":{redis_password}@"), "", 1);
    register_secret(&mongo_password);
    register_secret(&redis_password);
    if let Some(s) = get("AWS_SECRET_ACCESS_KEY") {
        register_secret(&s);
    }
    Some(Services {
        mongo_uri,
        mongo_user,
        mongo_password,
        redis_url_no_auth,
        redis_password,
        s3_endpoint,
        s3_bucket,
    })
}

/// The services with the second FerretDB instead of the first (`DARAA_TEST_OPLOG_MONGODB_URI`,
/// scripts/services.sh): the one whose oplog is on. Its capped `local.oplog.rs` is created here
/// when missing (FerretDB records an oplog once that collection exists); the other tests never
/// write to this server, so its oplog holds only the point-in-time tests' writes.
pub async fn oplog_services() -> Option<Services> {
    let mut s = services()?;
    let uri = std::env::var("DARAA_TEST_OPLOG_MONGODB_URI").ok().filter(|v| !v.is_empty()).expect(
        "DARAA_TEST_OPLOG_MONGODB_URI is not set: scripts/services.sh up starts that server",
    );
    let (user, password) = userinfo(&uri).expect("DARAA_TEST_OPLOG_MONGODB_URI has user:password");
    register_secret(&password);
    (s.mongo_uri, s.mongo_user, s.mongo_password) = (uri, user, password);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = mongodb::Client::with_uri_str(&s.mongo_uri).await.unwrap();
    let local = client.database("local");
    if !local.list_collection_names().await.unwrap().iter().any(|n| n == "oplog.rs") {
        // Several tests may get here at once: one creates it, the others see it exists.
        let _ = local
            .run_command(bson::doc! {"create": "oplog.rs", "capped": true, "size": 536_870_912_i64})
            .await;
        assert!(
            local.list_collection_names().await.unwrap().iter().any(|n| n == "oplog.rs"),
            "cannot create local.oplog.rs on the oplog test server"
        );
    }
    Some(s)
}

/// A FerretDB of a test's own (the binary `scripts/services.sh` builds, `DARAA_TEST_FERRETDB_BIN`),
/// on a free loopback port with its SQLite files in a temporary folder and its oplog on: a
/// test may kill and restart it, which the shared servers cannot take.
pub struct PrivateFerretDb {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    password: String,
    child: Option<std::process::Child>,
}

impl PrivateFerretDb {
    /// Started, with its admin user and a capped `local.oplog.rs`; `None` without services.
    pub async fn start() -> Option<(Self, Services)> {
        let mut services = services()?;
        let bin = std::env::var_os("DARAA_TEST_FERRETDB_BIN").map(PathBuf::from).expect(
            "DARAA_TEST_FERRETDB_BIN is not set: eval \"$(scripts/services.sh env)\" sets it",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        let password = format!("p{:x}{:x}", nanos.as_nanos(), std::process::id());
        register_secret(&password);
        let mut server =
            PrivateFerretDb { bin, dir: tempfile::tempdir().unwrap(), port, password, child: None };
        server.spawn();
        services.mongo_uri = format!(
            "mongodb://admin:{}@127.0.0.1:{port}/?authSource=admin&authMechanism=SCRAM-SHA-256",
            server.password
        );
        (services.mongo_user, services.mongo_password) = ("admin".into(), server.password.clone());
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let client = mongodb::Client::with_uri_str(&services.mongo_uri).await.unwrap();
        client
            .database("local")
            .run_command(bson::doc! {"create": "oplog.rs", "capped": true, "size": 67_108_864_i64})
            .await
            .unwrap();
        Some((server, services))
    }

    /// Starts the server on its port and folder (again after [`Self::kill`]): same data.
    pub fn spawn(&mut self) {
        let d = self.dir.path();
        for sub in ["data", "state"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("ferretdb.log"))
            .unwrap();
        let child = std::process::Command::new(&self.bin)
            .env("FERRETDB_SETUP_PASSWORD", &self.password)
            .arg("--handler=sqlite")
            .arg(format!("--sqlite-url=file:{}/", d.join("data").display()))
            .arg(format!("--state-dir={}", d.join("state").display()))
            .arg(format!("--listen-addr=127.0.0.1:{}", self.port))
            .args(["--debug-addr=-", "--telemetry=disable", "--log-level=warn"])
            .args(["--test-enable-new-auth", "--setup-database=admin", "--setup-username=admin"])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                let log = std::fs::read_to_string(d.join("ferretdb.log")).unwrap_or_default();
                panic!("FerretDB exited ({status}) before listening: {log}");
            }
            assert!(std::time::Instant::now() < deadline, "FerretDB did not listen within 60 s");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// SIGKILL: the server stops at once, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for PrivateFerretDb {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `scheme://user:password@...` → (user, password), percent-decoding not needed for the test
/// services' generated passwords.
fn userinfo(uri: &str) -> Option<(String, String)> {
    let rest = uri.split_once("://")?.1;
    let (info, _) = rest.rsplit_once('@')?;
    let (u, p) = info.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

impl Services {
    /// The MongoDB URI without credentials (they go through secret files).
    pub fn mongo_uri_no_auth(&self) -> String {
        self.mongo_uri.replacen(&format!("{}:{}@", self.mongo_user, self.mongo_password), "", 1)
    }
}

static SECRETS: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

pub fn register_secret(s: &str) {
    if s.len() >= 4 {
        SECRETS.lock().unwrap().insert(s.to_owned());
    }
}

/// A secrets file with mode 0600; its content is registered as a secret.
pub fn secret_file(dir: &Path, name: &str, value: &str) -> PathBuf {
    register_secret(value);
    let p = dir.join(name);
    std::fs::write(&p, format!("{value}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as the one JSON object of `--output json`.
    pub fn json(&self) -> serde_json::Value {
        let trimmed = self.stdout.trim();
        assert_eq!(
            trimmed.lines().count(),
            1,
            "expected exactly one JSON line on stdout:\n{}",
            self.stdout
        );
        serde_json::from_str(trimmed)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `daraa-ops` with arguments and extra environment, with no inherited DARAA_OPS_*
/// variables, and checks that no secret leaked into its output.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = assert_cmd::Command::cargo_bin("daraa-ops").unwrap();
    for (k, _) in std::env::vars() {
        if k.starts_with("DARAA_OPS_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).envs(env.iter().copied()).env("NO_COLOR", "1");
    let Output { status, stdout, stderr } = cmd.output().unwrap();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    for s in SECRETS.lock().unwrap().iter() {
        assert!(!run.stdout.contains(s.as_str()), "a secret appeared on stdout of {args:?}");
        assert!(!run.stderr.contains(s.as_str()), "a secret appeared on stderr of {args:?}");
    }
    run
}

/// A name unique to this test process, for databases, key prefixes and S3 prefixes.
pub fn unique(name: &str) -> String {
    format!("t_{name}_{}", std::process::id())
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Edits of config (and other test) texts that fail when what they replace is not there: an
/// edit whose anchor moved would otherwise test the unedited config and pass for nothing.
pub trait Edit {
    /// The text with the first `from` replaced by `to`.
    fn edit(&self, from: &str, to: &str) -> String;
    /// The text with every `from` replaced by `to`.
    fn edit_all(&self, from: &str, to: &str) -> String;
}

impl<T: AsRef<str> + ?Sized> Edit for T {
    fn edit(&self, from: &str, to: &str) -> String {
        let text = self.as_ref();
        assert!(text.contains(from), "{from:?} is not in:\n{text}");
        text.replacen(from, to, 1)
    }

    fn edit_all(&self, from: &str, to: &str) -> String {
        let text = self.as_ref();
        assert!(text.contains(from), "{from:?} is not in:\n{text}");
        text.replace(from, to)
    }
}

/// A config file pointing at the test services, with its own database, backup directory,
/// S3 prefix and Redis key prefix, so tests run in parallel without meeting.
pub struct Job {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub database: String,
    pub backup_dir: PathBuf,
    pub s3_prefix: String,
    pub services: Services,
}

#[derive(Default, Clone)]
pub struct JobOptions {
    pub redis: bool,
    pub s3: bool,
    /// Extra YAML appended to the config.
    pub extra: String,
}

impl Job {
    pub fn new(name: &str, s: &Services, opts: &JobOptions) -> Job {
        let dir = tempfile::tempdir().unwrap();
        let database = unique(name);
        let backup_dir = dir.path().join("backups");
        let s3_prefix = format!("{database}/");
        secret_file(dir.path(), "mongo_pw", &s.mongo_password);
        secret_file(dir.path(), "redis_pw", &s.redis_password);
        let mut yaml = format!(
            "mongodb:\n  uri: '{}'\n  username: {}\n  password_file: mongo_pw\n  database: {database}\n\
             backup:\n  dir: backups\n  name_prefix: daraa\n",
            s.mongo_uri_no_auth(),
            s.mongo_user
        );
        if opts.redis {
            yaml += &format!(
                "redis:\n  url: '{}'\n  password_file: redis_pw\n  required: true\n  key_prefix: '{database}:'\n",
                s.redis_url_no_auth
            );
        }
        if opts.s3 {
            yaml += &format!(
                "s3:\n  bucket: {}\n  endpoint: '{}'\n  force_path_style: true\n  prefix: '{s3_prefix}'\n  max_attempts: 2\n",
                s.s3_bucket, s.s3_endpoint
            );
        }
        yaml += &opts.extra;
        let config = dir.path().join("daraa-ops.yaml");
        std::fs::write(&config, yaml).unwrap();
        Job { dir, config, database, backup_dir, s3_prefix, services: s.clone() }
    }

    /// Runs the binary with this config (and `--output json` first when `json`).
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut full = vec!["--config", self.config.to_str().unwrap()];
        full.extend_from_slice(args);
        run(&full, env)
    }

    pub fn json(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        let mut full = vec!["--output", "json"];
        full.extend_from_slice(args);
        let r = self.run(&full, &[]);
        let v = r.json();
        (r.code, v, r.stderr)
    }

    /// A Command for the binary with this config, for tests that signal or race it.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("daraa-ops"));
        for (k, _) in std::env::vars() {
            if k.starts_with("DARAA_OPS_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("--config").arg(&self.config).args(args);
        cmd
    }

    /// The config file's text.
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    /// Replaces the first `from` by `to` in the config file; fails when `from` is not there.
    pub fn edit_config(&self, from: &str, to: &str) {
        std::fs::write(&self.config, self.config_text().edit(from, to)).unwrap();
    }

    /// This job's database, through a client of the test's own (the job's user is not used).
    pub async fn db(&self) -> mongodb::Database {
        self.client().await.database(&self.database)
    }

    pub async fn client(&self) -> mongodb::Client {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        mongodb::Client::with_uri_str(&self.services.mongo_uri).await.unwrap()
    }

    /// Seeds this job's database with the generator (and the zoo when asked).
    pub async fn seed(&self, scale: f64, zoo: bool) -> daraa_devdata::SeedReport {
        let client = self.client().await;
        let opts = daraa_devdata::SeedOptions {
            database: self.database.clone(),
            scale,
            seed: 7,
            now_ms: 1_780_000_000_000,
            parallel: 4,
            with_zoo: zoo,
        };
        daraa_devdata::seed(&client, &opts).await.unwrap()
    }

    pub async fn drop_database(&self) {
        self.client().await.database(&self.database).drop().await.unwrap();
    }

    /// Local files in the backup directory, sorted.
    pub fn local_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.backup_dir)
            .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    pub async fn s3(&self) -> daraa_ops::storage::s3::S3Store {
        let cfg = daraa_ops::config::S3Config {
            bucket: self.services.s3_bucket.clone(),
            prefix: self.s3_prefix.clone(),
            endpoint: Some(self.services.s3_endpoint.clone()),
            force_path_style: true,
            ..Default::default()
        };
        daraa_ops::storage::s3::S3Store::new(&cfg).await
    }
}

/// Splits concatenated BSON documents.
pub fn split_bson(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let len = i32::from_le_bytes(data[i..i + 4].try_into().unwrap()) as usize;
        out.push(data[i..i + len].to_vec());
        i += len;
    }
    out
}

/// One collection of a hand-made archive: name, `.metadata.json` text, and the raw BSON of its
/// documents (`None` for a view).
pub struct TestCollection<'a> {
    pub name: &'a str,
    pub metadata: String,
    pub data: Option<Vec<u8>>,
}

/// Writes a valid archive (members, manifest, checksums) for tests that need contents a live
/// server cannot produce: views and validators on FerretDB, duplicate `_id`s.
pub fn write_test_archive(path: &Path, db: &str, collections: &[TestCollection<'_>]) {
    write_test_archive_with(path, db, collections, |_| {});
}

/// [`write_test_archive`] with a change to the manifest before it is written (a manifest that
/// lies, for the hostile-archive tests).
pub fn write_test_archive_with(
    path: &Path,
    db: &str,
    collections: &[TestCollection<'_>],
    tweak: impl FnOnce(&mut daraa_ops::archive::manifest::Manifest),
) {
    use daraa_ops::archive::manifest::{CollectionEntry, FORMAT, FORMAT_VERSION, Manifest};
    use daraa_ops::files::hex;
    use sha2::Digest as _;
    let sha = |b: &[u8]| hex(&sha2::Sha256::digest(b));
    let entries: Vec<CollectionEntry> = collections
        .iter()
        .map(|c| CollectionEntry {
            name: c.name.into(),
            kind: if c.data.is_some() { "collection".into() } else { "view".into() },
            data_file: c.data.as_ref().map(|_| format!("{db}/{}.bson", c.name)),
            metadata_file: format!("{db}/{}.metadata.json", c.name),
            documents: c.data.as_ref().map_or(0, |d| split_bson(d).len() as u64),
            bytes: c.data.as_ref().map_or(0, |d| d.len() as u64),
            sha256: c.data.as_ref().map(|d| sha(d)),
            metadata_sha256: sha(c.metadata.as_bytes()),
            cluster_time: None,
        })
        .collect();
    let mut manifest = Manifest {
        imported: None,
        container: None,
        oplog: None,
        not_point_in_time: None,
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool_version: "test".into(),
        id: format!("daraa-{db}-20260101T000000Z"),
        label: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        completed_at: "2026-01-01T00:00:00Z".into(),
        server_version: "7.0.14".into(),
        database: db.into(),
        totals: Manifest::totals_of(&entries),
        shrunk: None,
        collections: entries,
    };
    tweak(&mut manifest);
    let mut w = daraa_ops::archive::tar::writer::ArchiveWriter::create(path, 6, 0, None).unwrap();
    w.append_bytes("prelude.json", br#"{"ServerVersion":"7.0.14"}"#).unwrap();
    for c in collections {
        w.append_bytes(&format!("{db}/{}.metadata.json", c.name), c.metadata.as_bytes()).unwrap();
        if let Some(d) = &c.data {
            w.append_bytes(&format!("{db}/{}.bson", c.name), d).unwrap();
        }
    }
    w.append_bytes("manifest.json", &serde_json::to_vec(&manifest).unwrap()).unwrap();
    w.finish().unwrap();
}

impl Job {
    /// A Redis connection with the test password, through the crate's own adapter.
    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        daraa_ops::cache::connect(&daraa_ops::config::RedisConfig {
            url: self.services.redis_url_no_auth.clone(),
            password_file: Some(daraa_ops::config::SecretFile(self.dir.path().join("redis_pw"))),
            ..Default::default()
        })
        .await
        .unwrap()
    }
}

/// A document's `_id`, as a comparable key.
pub fn id_key(raw: &bson::RawDocument) -> String {
    format!("{:?}", raw.get("_id").unwrap().unwrap())
}

/// Every document of a collection as raw bytes, keyed by `_id` (order-independent comparison).
pub async fn docs_by_id(
    db: &mongodb::Database,
    collection: &str,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    use futures_util::TryStreamExt as _;
    let docs: Vec<bson::RawDocumentBuf> = db
        .collection::<bson::RawDocumentBuf>(collection)
        .find(bson::doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    docs.into_iter().map(|d| (id_key(&d), d.into_bytes())).collect()
}

/// Every collection's documents by `_id` (raw bytes).
pub async fn contents(
    db: &mongodb::Database,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>> {
    let mut out = std::collections::BTreeMap::new();
    for name in db.list_collection_names().await.unwrap() {
        out.insert(name.clone(), docs_by_id(db, &name).await);
    }
    out
}

/// [`contents`] once the server has settled: read again (listing, every collection, listing)
/// until the listing did not change during a read and two reads 250 ms apart agree.
///
/// Why: a command a process sent just before it was killed still runs on the server, later
/// (the server reads it from the dead connection's buffer when it gets to it; on a busy
/// machine that can be after the test's next command). One naive read can then list a
/// collection, have the dead process's rename move it aside, and read the name as empty: a
/// state the database never had. `tests/it/crashes.rs` reproduces that with a proxy that
/// delays the killed process's commands.
pub async fn settled_contents(
    db: &mongodb::Database,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>> {
    let mut last = None;
    for _ in 0..40 {
        let before = db.list_collection_names().await.unwrap();
        let data = contents(db).await;
        let after = db.list_collection_names().await.unwrap();
        if before == after && last.as_ref() == Some(&data) {
            return data;
        }
        last = Some(data);
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("database {} did not settle within 10 s", db.name());
}

/// A MongoDB Database Tools binary (`mongodump`, `mongorestore`, `bsondump`):
/// `DARAA_TEST_<NAME>`, then PATH, then `../shared/peers/bin` beside the repository. Missing
/// under `CI=true` fails the test; elsewhere the test says so and returns.
pub fn peer(name: &str) -> Option<PathBuf> {
    let var = format!("DARAA_TEST_{}", name.to_uppercase());
    let found = std::env::var_os(&var)
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file())
            })
        })
        .or_else(|| Some(repo_path("../shared/peers/bin").join(name)).filter(|p| p.is_file()));
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "{name} not found under CI=true: set {var}, put it on PATH, or provide ../shared/peers/bin"
        );
        skipped(name, &format!("no {name} ({var}, PATH, ../shared/peers/bin)"));
    }
    found
}

/// The real `mongorestore` reading a daraa-ops `.archive.gz` (mongodump's archive format)
/// from the backup folder into `target` (`--noIndexRestore`: FerretDB refuses the `ns` field
/// mongorestore puts into index specs). The URI goes in a 0600 config file, never on argv.
pub fn mongorestore_archive(job: &Job, bin: &Path, file: &str, target: &str) -> Output {
    let tools =
        secret_file(job.dir.path(), "tools.yaml", &format!("uri: '{}'\n", job.services.mongo_uri));
    let o = std::process::Command::new(bin)
        .arg(format!("--config={}", tools.display()))
        .arg(format!("--archive={}", job.backup_dir.join(file).display()))
        .args(["--gzip", "--noIndexRestore"])
        .arg(format!("--nsFrom={}.*", job.database))
        .arg(format!("--nsTo={target}.*"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// A test that does not run its real check says so: on stderr, and in the file
/// `DARAA_TEST_SKIP_LOG` names (scripts/test.sh prints them all at the end, and fails unless
/// `DARAA_TEST_ALLOW_MISSING` names every missing thing). Under `CI=true` nothing may be
/// missing: the callers fail first.
pub fn skipped(what: &str, why: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    eprintln!("SKIPPED outside CI: {test}: {why}");
    if let Some(log) = std::env::var_os("DARAA_TEST_SKIP_LOG") {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
            let _ = f.write_all(format!("{what}\t{test}\t{why}\n").as_bytes());
        }
    }
}

/// `DARAA_UPDATE_GENERATED=1` (scripts/gen-docs.sh) rewrites committed snapshots instead of
/// comparing with them; never under `CI=true`, where it would make every comparison pass.
pub fn update_generated() -> bool {
    let update = std::env::var("DARAA_UPDATE_GENERATED").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !(update && ci),
        "DARAA_UPDATE_GENERATED=1 is refused under CI=true: it would rewrite the snapshots the tests compare with"
    );
    update
}

#[test]
fn edits_fail_when_what_they_replace_is_absent() {
    assert_eq!("a: 1\nb: 2\n".edit("b: 2", "b: 3"), "a: 1\nb: 3\n");
    assert_eq!("x x".edit("x", "y"), "y x");
    assert_eq!("x x".edit_all("x", "y"), "y y");
    assert!(std::panic::catch_unwind(|| "a: 1\n".edit("b: 2", "b: 3")).is_err());
    assert!(std::panic::catch_unwind(|| "a: 1\n".edit_all("b", "c")).is_err());
}

/// How a run stopped at a write ended.
pub enum Ended {
    /// It stopped after its Nth write and was killed there.
    Killed,
    /// It made fewer writes and exited with this code.
    Exited(i32),
}

/// Runs `args` stopping after the `n`th storage write; kills it there.
pub fn stop_after_write(job: &Job, args: &[&str], n: usize) -> Ended {
    let mut child = job
        .command(args)
        .env("DARAA_OPS_STOP_AFTER_WRITES", n.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Ended::Exited(status.code().unwrap_or(-1));
        }
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
        let state = stat.rsplit(')').next().and_then(|r| r.split_whitespace().next());
        if state == Some("T") {
            child.kill().unwrap();
            child.wait().unwrap();
            return Ended::Killed;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(120),
            "{args:?} neither stopped nor ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

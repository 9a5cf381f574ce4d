//! What backups exist in a storage, read from names and sidecar manifests only (archives are
//! never downloaded for this). Only names daraa-ops creates for the configured prefix and
//! database count; every other file or object is ignored, and so never deleted.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::archive::Sidecar;
use crate::archive::crypt;
use crate::archive::names::{
    self, ARCHIVE_SUFFIX, ARCHIVE_SUFFIXES, CHECKS_SUFFIX, PARTIAL_SUFFIX, SIDECAR_SUFFIX,
};
use crate::outcome::CliError;
use crate::storage::{Storage, StorageError};

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    #[serde(serialize_with = "ser_ts")]
    pub time: Timestamp,
    pub archive_size: Option<u64>,
    /// Archive and sidecar both present (and the sidecar readable).
    pub complete: bool,
    /// A `.partial` archive: a run in progress, or one that crashed.
    pub partial: bool,
    /// `.tar.gz`, or `.archive.gz` for mongodump's archive format.
    #[serde(skip)]
    pub suffix: &'static str,
    #[serde(skip)]
    pub sidecar: Option<Sidecar>,
    /// `<id>.checks.json`: the last verify and drill of this backup, when any ran.
    #[serde(skip)]
    pub checks: Option<Checks>,
}

/// The last verify and drill of a backup (`<id>.checks.json` beside its sidecar, written by
/// `verify` and `drill` of a catalog backup; retention keeps the newest drilled backup).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Checks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drilled: Option<Check>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Check {
    /// RFC 3339, UTC: when it ended.
    pub at: String,
    pub ok: bool,
    /// What failed, for a failed check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// verify: whether the contents were checked (false: an encrypted backup checked without
    /// a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents_checked: Option<bool>,
    /// drill: seconds the restore into the scratch database took (the restore time to expect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_seconds: Option<f64>,
}

/// Which check ran.
#[derive(Debug, Clone, Copy)]
pub enum CheckKind {
    Verify,
    Drill,
}

fn ser_ts<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_string())
}

impl Entry {
    pub fn archive_name(&self) -> String {
        format!("{}{}", self.id, self.suffix)
    }

    pub fn sidecar_name(&self) -> String {
        format!("{}{SIDECAR_SUFFIX}", self.id)
    }

    pub fn checks_name(&self) -> String {
        format!("{}{CHECKS_SUFFIX}", self.id)
    }

    /// The last drill of this backup passed, and no later check failed.
    pub fn drilled_ok(&self) -> bool {
        self.checks.as_ref().and_then(|c| c.drilled.as_ref()).is_some_and(|d| d.ok)
            && !self.last_check_failed()
    }

    /// The most recent check of either kind (verify or drill) failed: whatever passed
    /// before, this backup is not known to be good now.
    pub fn last_check_failed(&self) -> bool {
        let Some(c) = &self.checks else { return false };
        let at = |c: &Check| c.at.parse::<Timestamp>().ok();
        match (&c.verified, &c.drilled) {
            (Some(v), Some(d)) => {
                // The later one decides; on a tie (or an unreadable time) a failure wins.
                match (at(v), at(d)) {
                    (Some(tv), Some(td)) if tv > td => !v.ok,
                    (Some(tv), Some(td)) if td > tv => !d.ok,
                    _ => !v.ok || !d.ok,
                }
            }
            (Some(x), None) | (None, Some(x)) => !x.ok,
            (None, None) => false,
        }
    }

    /// Adopted by `import`, not written by `backup`.
    pub fn imported(&self) -> bool {
        self.sidecar.as_ref().is_some_and(|s| s.manifest.imported.is_some())
    }

    /// Marked as shrunk by the `max_shrink` guard.
    pub fn shrunk(&self) -> bool {
        self.sidecar.as_ref().is_some_and(|s| s.manifest.shrunk.is_some())
    }

    /// Complete, holding documents, and not marked as shrunk: a backup that may stand for
    /// the database (retention counts it, `latest` picks it).
    pub fn is_good(&self) -> bool {
        self.complete && self.sidecar.as_ref().is_some_and(|s| s.manifest.is_good())
    }
}

/// Backups in a storage, oldest first.
pub async fn scan(storage: &Storage, prefix: &str, db: &str) -> Result<Vec<Entry>, StorageError> {
    let mut by_id: BTreeMap<String, Entry> = BTreeMap::new();
    // Every archive file of an id: normally one; two after a rekey that encrypted a
    // plaintext archive was interrupted (the sidecar says which one is the backup).
    let mut files: BTreeMap<String, Vec<(&'static str, u64)>> = BTreeMap::new();
    let mut sidecars = Vec::new();
    let mut checks = Vec::new();
    for o in storage.list().await? {
        let archive = ARCHIVE_SUFFIXES.iter().find_map(|s| {
            o.name
                .strip_suffix(PARTIAL_SUFFIX)
                .and_then(|n| n.strip_suffix(s))
                .map(|id| (id, 'p', *s))
                .or_else(|| o.name.strip_suffix(s).map(|id| (id, 'a', *s)))
        });
        let (id, kind, suffix) = match archive {
            Some(found) => found,
            None => match o.name.strip_suffix(SIDECAR_SUFFIX) {
                Some(id) => (id, 's', ARCHIVE_SUFFIX),
                None => match o.name.strip_suffix(CHECKS_SUFFIX) {
                    Some(id) => {
                        checks.push(id.to_owned());
                        continue;
                    }
                    None => continue,
                },
            },
        };
        let Some(time) = names::parse_backup_id(id, prefix, db) else { continue };
        let e = by_id.entry(id.to_owned()).or_insert_with(|| Entry {
            id: id.to_owned(),
            time,
            archive_size: None,
            complete: false,
            partial: false,
            suffix,
            sidecar: None,
            checks: None,
        });
        match kind {
            'p' => e.partial = true,
            'a' => {
                e.archive_size = Some(o.size);
                e.suffix = suffix;
                files.entry(id.to_owned()).or_default().push((suffix, o.size));
            }
            _ => sidecars.push(id.to_owned()),
        }
    }
    for id in sidecars {
        let Some(e) = by_id.get_mut(&id) else { continue };
        let sidecar =
            storage.get_bytes(&e.sidecar_name()).await?.and_then(
                |b| match serde_json::from_slice::<Sidecar>(&b) {
                    Ok(s) => Some(s),
                    Err(err) => {
                        tracing::warn!(
                            "{} in {} is not a valid sidecar: {err}",
                            e.sidecar_name(),
                            storage.describe()
                        );
                        None
                    }
                },
            );
        if let Some(sc) = &sidecar
            && let Some((suffix, size)) = files
                .get(&id)
                .and_then(|f| f.iter().find(|(sfx, _)| format!("{id}{sfx}") == sc.archive.file))
        {
            e.suffix = suffix;
            e.archive_size = Some(*size);
        }
        e.complete = e.archive_size.is_some() && sidecar.is_some();
        e.sidecar = sidecar;
    }
    for id in checks {
        let Some(e) = by_id.get_mut(&id) else { continue };
        e.checks = storage
            .get_bytes(&e.checks_name())
            .await?
            .and_then(|b| serde_json::from_slice::<Checks>(&b).ok());
    }
    Ok(by_id.into_values().collect())
}

/// An archive chosen by `ID`, `latest` or a path, with its sidecar when one exists.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub id: String,
    /// Where it is read from: a storage and the archive's name in it.
    pub storage: Storage,
    pub archive_name: String,
    pub sidecar: Option<Sidecar>,
    /// A mongodump `--out` folder given by path: read as a tar stream made on the fly.
    pub directory: Option<std::path::PathBuf>,
    /// `-`: standard input, readable once (no survey, no sidecar).
    pub stdin: bool,
    /// `backup.encryption.identity_files`: read only when the backup turns out encrypted.
    pub identity_files: Vec<crate::config::SecretFile>,
    /// Found in the catalog by id or `latest`: checks are recorded beside it.
    pub in_catalog: bool,
}

impl Resolved {
    /// A local file of that name in the current folder, for unit tests of code that only
    /// names its source.
    #[cfg(test)]
    pub fn for_tests(file: &str) -> Resolved {
        Resolved {
            id: file.to_owned(),
            storage: Storage::Local(crate::storage::local::LocalStore::new(".".into())),
            archive_name: file.to_owned(),
            sidecar: None,
            directory: None,
            stdin: false,
            identity_files: Vec::new(),
            in_catalog: false,
        }
    }

    /// The backup's plaintext as a stream: [`raw_reader`](Self::raw_reader) decrypted when it
    /// is an age file.
    pub async fn reader(&self) -> anyhow::Result<Box<dyn std::io::Read + Send>> {
        let raw = self.raw_reader().await?;
        tokio::task::block_in_place(|| self.decrypt(raw))
    }

    /// Whether the backup is encrypted, as far as its name and sidecar tell.
    pub fn encrypted(&self) -> bool {
        self.archive_name.ends_with(crypt::SUFFIX)
            || self.sidecar.as_ref().is_some_and(|s| s.archive.encryption.is_some())
    }

    /// The recipients the sidecar says the backup was encrypted for.
    fn recipients_text(&self) -> String {
        match self.sidecar.as_ref().and_then(|s| s.archive.encryption.as_ref()) {
            Some(e) => e.recipients.join(", "),
            None => "recipients not recorded (no sidecar)".into(),
        }
    }

    /// `raw` as plaintext: unchanged when it is not an age file, else decrypted with the
    /// configured identities (reads the age header now; blocking). No identity configured is
    /// exit 2; none that opens it or a damaged header is exit 6, naming the recipients.
    pub fn decrypt<'a, R: std::io::Read + Send + 'a>(
        &self,
        raw: R,
    ) -> anyhow::Result<Box<dyn std::io::Read + Send + 'a>> {
        use std::io::Read as _;
        let mut raw = raw;
        let mut head = vec![0u8; crypt::MAGIC.len()];
        let mut n = 0;
        while n < head.len() {
            match raw.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("reading {}", self.describe()))
                    );
                }
            }
        }
        head.truncate(n);
        let encrypted = crypt::is_encrypted(&head);
        let stream = std::io::Cursor::new(head).chain(raw);
        if !encrypted {
            return Ok(Box::new(stream));
        }
        let identities = load_identities(&self.identity_files)
            .map_err(|e| {
                crate::outcome::KeyError::wrap(e.context(format!(
                    "{} is encrypted with age (for {})",
                    self.describe(),
                    self.recipients_text()
                )))
            })?
            .ok_or_else(|| {
            crate::outcome::KeyError::wrap(CliError::usage(format!(
                "{} is encrypted with age (for {}) and no identity is configured to open it",
                self.describe(),
                self.recipients_text()
            ))
            .with_hint(
                "set backup.encryption.identity_files (or DARAA_OPS_AGE_IDENTITY_FILE) to the private key file of one of those recipients, mode 0600",
            ).into())
        })?;
        let recorded = self
            .sidecar
            .as_ref()
            .and_then(|s| s.archive.encryption.as_ref())
            .map(|e| e.recipients.clone())
            .unwrap_or_default();
        crypt::open(stream, &identities).map_err(|e| match e {
            // One of the recorded recipients is ours, yet nothing opens: the header changed.
            crypt::OpenError::NoMatchingKey if identities.opens_any(&recorded) => CliError::new(
                crate::outcome::Outcome::Drift,
                format!(
                    "{}: the age header is damaged: it was encrypted for {} (one of them is {}'s key), and that key does not open it",
                    self.describe(),
                    recorded.join(", "),
                    self.identity_files
                        .iter()
                        .map(|f| f.path().display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            )
            .with_hint("this archive cannot be trusted; nothing was read from it")
            .into(),
            crypt::OpenError::NoMatchingKey => crate::outcome::KeyError::wrap(CliError::new(
                crate::outcome::Outcome::Drift,
                format!(
                    "no configured identity opens {}: it was encrypted for {}; the identities in {} answer to {}",
                    self.describe(),
                    self.recipients_text(),
                    self.identity_files
                        .iter()
                        .map(|f| f.path().display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    identities.public().join(", ")
                ),
            )
            .with_hint("add the identity of one of those recipients to backup.encryption.identity_files")
            .into()),
            crypt::OpenError::Damaged(msg) => CliError::new(
                crate::outcome::Outcome::Drift,
                format!("{}: {msg}", self.describe()),
            )
            .with_hint("this archive cannot be trusted; nothing was read from it")
            .into(),
            crypt::OpenError::Io(e) => {
                anyhow::Error::new(e).context(format!("reading {}", self.describe()))
            }
        })
    }

    /// The backup's bytes as stored: the file (encrypted or not), or a tar of the folder.
    pub async fn raw_reader(&self) -> Result<Box<dyn std::io::Read + Send>, StorageError> {
        if self.stdin {
            return Ok(Box::new(crate::signal::stdin_reader()));
        }
        match &self.directory {
            Some(dir) => Ok(Box::new(crate::archive::foreign::directory_stream(dir.clone()))),
            None => self.storage.reader(&self.archive_name).await,
        }
    }

    /// A failure reading this backup as an outcome: a damaged archive is exit 6 naming the
    /// source, with `hint` (what the caller left untouched, what to do); a read failure is the
    /// source's; anything after a signal is an interruption.
    pub fn archive_error(
        &self,
        e: crate::archive::ArchiveError,
        cancel: &tokio_util::sync::CancellationToken,
        hint: &str,
    ) -> anyhow::Error {
        if cancel.is_cancelled() {
            return crate::signal::Interrupted.into();
        }
        match e {
            crate::archive::ArchiveError::Corrupt(msg) => {
                CliError::new(crate::outcome::Outcome::Drift, format!("{}: {msg}", self.describe()))
                    .with_hint(hint)
                    .into()
            }
            crate::archive::ArchiveError::Io(e) => {
                anyhow::Error::new(e).context(format!("reading {}", self.describe()))
            }
        }
    }

    /// Where it is read from, for messages: a path or URL.
    pub fn describe(&self) -> String {
        if self.stdin {
            return "standard input".into();
        }
        match &self.directory {
            Some(dir) => dir.display().to_string(),
            None => {
                format!("{}/{}", self.storage.describe().trim_end_matches('/'), self.archive_name)
            }
        }
    }
}

/// File name endings of backups given by path, longest first: the id is the name without it.
const PATH_SUFFIXES: [&str; 9] = [
    names::ARCHIVE_SUFFIX_AGE,
    names::STREAM_SUFFIX_AGE,
    ARCHIVE_SUFFIX,
    ".archive.gz",
    ".tgz",
    ".tar",
    ".archive",
    ".gz",
    ".bson",
];

/// Finds a backup: a path (a daraa-ops `.tar.gz`, whose sidecar beside it is used when
/// present; a mongodump `--archive` file; a mongodump `--out` folder or a tar of one), a
/// backup id (local first, then S3), or `latest` (the newest complete backup in either).
pub async fn resolve(cfg: &crate::config::Config, target: &str) -> anyhow::Result<Resolved> {
    let mut resolved = resolve_source(cfg, target).await?;
    resolved.identity_files.clone_from(&cfg.backup.encryption.identity_files);
    Ok(resolved)
}

async fn resolve_source(cfg: &crate::config::Config, target: &str) -> anyhow::Result<Resolved> {
    if target == "-" {
        use std::io::IsTerminal as _;
        if std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "`-` reads a backup from standard input, which is a terminal here",
            )
            .with_hint(
                "pipe one in: `daraa-ops backup --stdout | daraa-ops restore - --target-db NAME`, or `restore - < FILE`",
            )
            .into());
        }
        return Ok(Resolved {
            id: "stdin".into(),
            storage: Storage::Local(crate::storage::local::LocalStore::new(".".into())),
            archive_name: "-".into(),
            sidecar: None,
            directory: None,
            stdin: true,
            identity_files: Vec::new(),
            in_catalog: false,
        });
    }
    let path = std::path::Path::new(target);
    let by_path = target.contains('/')
        || PATH_SUFFIXES.iter().any(|s| target.ends_with(s))
        || (target != "latest" && path.exists());
    if by_path {
        return resolve_path(target).await;
    }
    resolve_id(cfg, target).await
}

/// A backup given by path: a file (with the sidecar beside a daraa-ops `.tar.gz`) or a folder.
async fn resolve_path(target: &str) -> anyhow::Result<Resolved> {
    use crate::storage::local::LocalStore;
    let path = std::path::Path::new(target);
    {
        if path.is_dir() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(target).to_owned();
            return Ok(Resolved {
                id: name.clone(),
                storage: Storage::Local(LocalStore::new(path.to_path_buf())),
                archive_name: name,
                sidecar: None,
                directory: Some(path.to_path_buf()),
                stdin: false,
                identity_files: Vec::new(),
                in_catalog: false,
            });
        }
        if !path.is_file() {
            return Err(CliError::usage(format!("{target} is not a file or folder"))
                .with_hint(
                    "give a backup id, `latest`, the path of a backup file, or a mongodump --out folder",
                )
                .into());
        }
        let dir = path
            .parent()
            .map(std::path::Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| ".".into());
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or(target).to_owned();
        let id =
            PATH_SUFFIXES.iter().find_map(|s| file.strip_suffix(s)).unwrap_or(&file).to_owned();
        let storage = Storage::Local(LocalStore::new(dir));
        let sidecar = if ARCHIVE_SUFFIXES.iter().any(|s| file.ends_with(s)) {
            storage
                .get_bytes(&format!("{id}{SIDECAR_SUFFIX}"))
                .await?
                .and_then(|b| serde_json::from_slice(&b).ok())
        } else {
            None
        };
        Ok(Resolved {
            id,
            storage,
            archive_name: file,
            sidecar,
            directory: None,
            stdin: false,
            identity_files: Vec::new(),
            in_catalog: false,
        })
    }
}

/// A backup id or `latest`, from the catalogs of the configured storages.
async fn resolve_id(cfg: &crate::config::Config, target: &str) -> anyhow::Result<Resolved> {
    let storages = crate::storage::all(cfg).await;
    let mut best: Option<(Entry, Storage)> = None;
    for storage in storages {
        // A backup id found complete locally needs no look at S3 (which may be down).
        if target != "latest" && best.as_ref().is_some_and(|(e, _)| e.complete) {
            break;
        }
        let entries = match scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await {
            Ok(entries) => entries,
            Err(e) if matches!(storage, Storage::S3(_)) && best.is_some() => {
                tracing::warn!("{e}; using the local backup");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for e in entries {
            // `latest` never picks an empty or shrunk backup.
            let wanted = if target == "latest" { e.is_good() } else { e.id == target };
            if !wanted {
                continue;
            }
            let better = match &best {
                None => true,
                // Newer wins; for the same backup the first storage (local) wins.
                Some((b, _)) => e.time > b.time || (!b.complete && e.complete),
            };
            if better {
                best = Some((e, storage.clone()));
            }
        }
    }
    match best {
        Some((e, storage)) => {
            if !e.complete {
                return Err(CliError::new(
                    crate::outcome::Outcome::Drift,
                    format!(
                        "backup {} in {} is incomplete (no sidecar manifest or no archive)",
                        e.id,
                        storage.describe()
                    ),
                )
                .into());
            }
            Ok(Resolved {
                archive_name: e.archive_name(),
                id: e.id,
                storage,
                sidecar: e.sidecar,
                directory: None,
                stdin: false,
                identity_files: Vec::new(),
                in_catalog: true,
            })
        }
        None if target == "latest" => Err(anyhow::Error::new(CliError::usage(format!(
            "no complete, non-empty backup of {} in {}{}",
            cfg.mongodb.database,
            cfg.backup.dir.display(),
            cfg.s3
                .as_ref()
                .map(|s| format!(" or s3://{}/{}", s.bucket, s.prefix))
                .unwrap_or_default()
        )))),
        None => Err(CliError::usage(format!("no backup with id {target}"))
            .with_hint("see `daraa-ops list`")
            .into()),
    }
}

/// Whether a failed verify or drill says something about the backup itself (a damaged or
/// mismatching archive, a runtime failure while reading or restoring it), so that it is
/// recorded beside it; a usage error, a missing key, an unreachable server or a held lock
/// is not.
pub fn about_the_backup(e: &anyhow::Error) -> bool {
    use crate::outcome::Outcome;
    if e.chain().any(|c| c.downcast_ref::<crate::outcome::KeyError>().is_some()) {
        return false;
    }
    matches!(crate::outcome::classify(e, false).outcome, Outcome::Drift | Outcome::Failed)
}

/// The recipients new archives and cleanup parts are encrypted to (`backup.encryption`),
/// `None` when encryption is off. A recipients file that cannot be read or holds a bad key is
/// exit 2 naming it.
pub fn recipients(cfg: &crate::config::Config) -> anyhow::Result<Option<crypt::Recipients>> {
    let e = &cfg.backup.encryption;
    if !e.enabled() {
        return Ok(None);
    }
    let mut lines: Vec<String> = e.recipients.clone();
    for f in &e.recipients_files {
        let text = std::fs::read_to_string(f).map_err(|err| {
            CliError::usage(format!(
                "cannot read backup.encryption.recipients_files entry {}: {err}",
                f.display()
            ))
        })?;
        let r = crypt::Recipients::parse(text.lines()).map_err(|msg| {
            CliError::usage(format!("recipients file {}: {msg}", f.display()))
                .with_hint("one age1… public key per line; `age-keygen -y KEYFILE` prints one")
        })?;
        if r.is_empty() {
            return Err(CliError::usage(format!(
                "recipients file {} holds no age1… key",
                f.display()
            ))
            .into());
        }
        lines.extend(r.names().iter().cloned());
    }
    let r = crypt::Recipients::parse(lines.iter().map(String::as_str))
        .map_err(|msg| CliError::usage(format!("backup.encryption.recipients: {msg}")))?;
    Ok(Some(r))
}

/// The configured identities, read now (mode warnings as for every secret); `None` when none
/// is configured. A missing, unreadable or malformed file is exit 2 naming it.
pub fn load_identities(
    files: &[crate::config::SecretFile],
) -> anyhow::Result<Option<crypt::Identities>> {
    use secrecy::ExposeSecret as _;
    let mut all: Option<crypt::Identities> = None;
    for f in files {
        let text = f.read("backup.encryption.identity_files").map_err(|e| {
            CliError::usage(e.to_string()).with_hint(
                "backup.encryption.identity_files (or DARAA_OPS_AGE_IDENTITY_FILE) names an age identity file (`age-keygen -o FILE`), mode 0600",
            )
        })?;
        let ids = crypt::Identities::parse(text.expose_secret()).map_err(|msg| {
            CliError::usage(format!("age identity file {} {msg}", f.path().display()))
                .with_hint("an identity file holds AGE-SECRET-KEY-1… lines (`age-keygen -o FILE`)")
        })?;
        match &mut all {
            Some(a) => a.extend(ids),
            None => all = Some(ids),
        }
    }
    Ok(all)
}

/// Records a verify or drill result beside a catalog backup (`<id>.checks.json` in the storage
/// it was read from). A backup given by path or stdin is not recorded. Failures are logged:
/// the check itself already happened.
pub async fn record_check(source: &Resolved, kind: CheckKind, check: Check) {
    if !source.in_catalog {
        return;
    }
    let name = format!("{}{CHECKS_SUFFIX}", source.id);
    let mut checks = match source.storage.get_bytes(&name).await {
        Ok(Some(b)) => serde_json::from_slice::<Checks>(&b).unwrap_or_default(),
        Ok(None) => Checks::default(),
        Err(e) => {
            tracing::warn!("cannot read {name}: {e}");
            Checks::default()
        }
    };
    match kind {
        CheckKind::Verify => checks.verified = Some(check),
        CheckKind::Drill => checks.drilled = Some(check),
    }
    let bytes = serde_json::to_vec_pretty(&checks).unwrap_or_default();
    if let Err(e) = source.storage.put_bytes(&name, &bytes).await {
        tracing::warn!("cannot record the result beside backup {}: {e}", source.id);
    }
}

/// Now, as [`Check::at`] says it.
pub fn now_rfc3339() -> String {
    let t = jiff::Timestamp::now();
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

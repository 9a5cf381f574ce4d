//! Crontab lines from the config's `schedule`, with absolute binary and config paths and
//! output appended to a log file per job, and the crontab they go into.
//!
//! The lines sit between `# BEGIN daraa-ops` and `# END daraa-ops` in the user's crontab
//! (through `crontab -l`/`crontab -`), in a crontab file, or in `/etc/cron.d/daraa-ops` (with
//! a user column). Installing again replaces the block; removing takes it out and leaves the
//! rest of the crontab as it was.

use std::fmt::Write as _;
use std::io::Write as IoWrite;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::config::{CleanupAction, Config};
use crate::error::{CliError, Outcome};

pub const BEGIN: &str = "# BEGIN daraa-ops";
pub const END: &str = "# END daraa-ops";

pub const DEFAULT_BACKUP: &str = "0 1 * * *";
pub const DEFAULT_CLEANUP: &str = "0 3 * * *";
pub const DEFAULT_ARCHIVE: &str = "0 2 * * 0";
pub const DEFAULT_MAINTENANCE: &str = "0 4 * * 0";

/// One scheduled command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub job: &'static str,
    pub schedule: String,
    pub args: Vec<String>,
}

/// The entries for a config: defaults where `schedule` says nothing.
pub fn entries(cfg: &Config) -> Result<Vec<Entry>, CliError> {
    let s = &cfg.schedule;
    let pick = |v: &Option<String>, d: &str, key: &str| -> Result<String, CliError> {
        let e = v.clone().unwrap_or_else(|| d.to_owned());
        crate::config::check_cron(&e)
            .map_err(|m| CliError::usage(format!("schedule.{key}: {m}")))?;
        Ok(e)
    };
    let mut out = vec![Entry {
        job: "backup",
        schedule: pick(&s.backup, DEFAULT_BACKUP, "backup")?,
        args: vec!["backup".into()],
    }];
    let rules = |action: CleanupAction| -> Vec<String> {
        cfg.cleanup
            .rules
            .iter()
            .filter(|r| r.action == action)
            .flat_map(|r| ["--rule".to_owned(), r.name.clone()])
            .collect()
    };
    let deletes = rules(CleanupAction::Delete);
    if !deletes.is_empty() {
        let mut args = vec!["cleanup".to_owned()];
        args.extend(deletes);
        out.push(Entry {
            job: "cleanup",
            schedule: pick(&s.cleanup, DEFAULT_CLEANUP, "cleanup")?,
            args,
        });
    }
    let archives = rules(CleanupAction::Archive);
    if !archives.is_empty() {
        let mut args = vec!["cleanup".to_owned()];
        args.extend(archives);
        out.push(Entry {
            job: "archive",
            schedule: pick(&s.archive, DEFAULT_ARCHIVE, "archive")?,
            args,
        });
    }
    let maintenance = pick(&s.maintenance, DEFAULT_MAINTENANCE, "maintenance")?;
    if cfg.indexes.spec.is_some() {
        out.push(Entry {
            job: "indexes",
            schedule: maintenance.clone(),
            args: vec!["indexes".into(), "validate".into()],
        });
    }
    let mut stats = vec!["stats".to_owned()];
    if let Some(dir) = &cfg.metrics.textfile_dir {
        stats.extend([
            "--format".to_owned(),
            "prometheus".to_owned(),
            "--out".to_owned(),
            dir.join("daraa_ops_stats.prom").display().to_string(),
        ]);
    }
    out.push(Entry { job: "stats", schedule: maintenance, args: stats });
    if let Some(d) = &s.drill {
        out.push(Entry {
            job: "drill",
            schedule: pick(&Some(d.clone()), d, "drill")?,
            args: vec!["drill".into()],
        });
    }
    Ok(out)
}

/// Quotes for `/bin/sh` when needed; `%` is escaped because cron turns it into a newline.
fn sh(s: &str) -> String {
    let safe =
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+".contains(c));
    let q = if safe { s.to_owned() } else { format!("'{}'", s.replace('\'', "'\\''")) };
    q.replace('%', "\\%")
}

/// The crontab lines (with `user` for /etc/cron.d).
pub fn lines(
    entries: &[Entry],
    bin: &Path,
    config: &Path,
    log_dir: &Path,
    user: Option<&str>,
) -> String {
    let mut out = String::new();
    for e in entries {
        let mut cmd = vec![
            sh(&bin.display().to_string()),
            "--config".into(),
            sh(&config.display().to_string()),
            "--no-progress".into(),
        ];
        cmd.extend(e.args.iter().map(|a| sh(a)));
        let log = sh(&log_dir.join(format!("{}.log", e.job)).display().to_string());
        let who = user.map(|u| format!("{u} ")).unwrap_or_default();
        let _ = writeln!(out, "{} {who}{} >>{log} 2>&1", e.schedule, cmd.join(" "));
    }
    out
}

pub fn block(body: &str, version: &str) -> String {
    format!(
        "{BEGIN}\n# daraa-ops {version}: written by `daraa-ops cron install`; change the config's schedule: and install again\n{body}{END}\n"
    )
}

/// The crontab without the daraa-ops block (the lines between the markers, markers included).
pub fn strip_block(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == BEGIN {
            inside = true;
            continue;
        }
        if inside {
            if bare == END {
                inside = false;
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

pub fn with_block(text: &str, block: &str) -> String {
    let mut base = strip_block(text);
    if !base.is_empty() && !base.ends_with('\n') {
        base.push('\n');
    }
    base + block
}

/// The user cron runs the jobs as in a cron.d file: `$USER`, else `id -un`, else root.
pub fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .or_else(|| {
            Command::new("id")
                .arg("-un")
                .output()
                .ok()
                .and_then(|o| String::from_utf8(o.stdout).ok())
        })
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "root".into())
}

fn runtime(msg: String) -> CliError {
    CliError::new(Outcome::Failed, msg)
}

/// The crontab: the file given, else the user's (`crontab -l`; none is empty).
pub fn read_crontab(file: Option<&Path>) -> Result<String, CliError> {
    if let Some(f) = file {
        return match std::fs::read_to_string(f) {
            Ok(s) => Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(runtime(format!("cannot read {}: {e}", f.display()))),
        };
    }
    let out = Command::new("crontab").arg("-l").output().map_err(|e| {
        runtime(format!("cannot run crontab -l: {e}"))
            .with_hint("install cron (Debian: apt install cron), or use --cron-d or --crontab-file")
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("no crontab") {
        Ok(String::new())
    } else {
        Err(runtime(format!("crontab -l failed: {}", err.trim())))
    }
}

/// Replaces the crontab: the file given (atomically), else the user's (`crontab -`).
pub fn write_crontab(file: Option<&Path>, text: &str) -> Result<(), CliError> {
    if let Some(f) = file {
        return crate::files::write_atomic(f, text.as_bytes())
            .map_err(|e| runtime(format!("cannot write {}: {e}", f.display())));
    }
    let mut child = Command::new("crontab")
        .arg("-")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| runtime(format!("cannot run crontab -: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    IoWrite::write_all(&mut stdin, text.as_bytes())
        .map_err(|e| runtime(format!("writing to crontab -: {e}")))?;
    drop(stdin);
    let out = child.wait_with_output().map_err(|e| runtime(format!("crontab -: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(runtime(format!(
            "crontab - refused the new crontab: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Writes `/etc/cron.d/daraa-ops` (or the path given), mode 0644.
pub fn write_cron_d(path: &Path, text: &str) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt as _;
    crate::files::write_atomic(path, text.as_bytes())
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)))
        .map_err(|e| {
            runtime(format!("cannot write {}: {e}", path.display()))
                .with_hint("writing /etc/cron.d needs root")
        })
}

/// Creates the jobs' log folder (0750) when missing.
pub fn ensure_log_dir(dir: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o750).create(dir).map_err(|e| {
        runtime(format!("cannot create the log folder {}: {e}", dir.display()))
            .with_hint("create it (writable by the cron user) or pass --log-dir")
    })
}

/// Puts `block` into the crontab in place of an earlier one; whether it changed.
pub fn install_block(file: Option<&Path>, block: &str) -> Result<bool, CliError> {
    let before = read_crontab(file)?;
    let after = with_block(&before, block);
    let changed = after != before;
    if changed {
        write_crontab(file, &after)?;
    }
    Ok(changed)
}

/// Takes the daraa-ops block out of the crontab; whether there was one.
pub fn remove_block(file: Option<&Path>) -> Result<bool, CliError> {
    let before = read_crontab(file)?;
    let after = strip_block(&before);
    let changed = after != before;
    if changed {
        write_crontab(file, &after)?;
    }
    Ok(changed)
}

/// Removes a cron.d file daraa-ops wrote (one without its block is refused); whether it
/// existed.
pub fn remove_cron_d(path: &Path) -> Result<bool, CliError> {
    if !path.exists() {
        return Ok(false);
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    if !text.contains(BEGIN) {
        return Err(CliError::usage(format!(
            "{} was not written by daraa-ops; not removing it",
            path.display()
        )));
    }
    std::fs::remove_file(path)
        .map_err(|e| runtime(format!("cannot remove {}: {e}", path.display())))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_need_five_valid_fields() {
        assert!(crate::config::check_cron("0 1 * * *").is_ok());
        assert!(crate::config::check_cron("*/15 2-4 1,15 * 0").is_ok());
        assert!(crate::config::check_cron("0 1 * *").unwrap_err().contains("4 fields"));
        assert!(crate::config::check_cron("0 0 1 * * *").unwrap_err().contains("6 fields"));
        assert!(crate::config::check_cron("61 1 * * *").is_err());
    }

    #[test]
    fn install_is_idempotent_and_remove_restores_the_crontab() {
        let original = "MAILTO=ops@example.com\n# keep me\n5 * * * * /usr/bin/true\n";
        let b = block("0 1 * * * /x backup >>/l 2>&1\n", "1.0");
        let once = with_block(original, &b);
        assert_eq!(with_block(&once, &b), once);
        assert_eq!(once.matches(BEGIN).count(), 1);
        assert_eq!(strip_block(&once), original);
        // A crontab without a final newline keeps its last line intact.
        let no_nl = "5 * * * * /usr/bin/true";
        assert!(with_block(no_nl, &b).starts_with("5 * * * * /usr/bin/true\n# BEGIN"));
    }

    #[test]
    fn paths_are_quoted_for_the_shell_and_percent_escaped() {
        assert_eq!(sh("/usr/local/bin/daraa-ops"), "/usr/local/bin/daraa-ops");
        assert_eq!(sh("/opt/my ops/cfg.yaml"), "'/opt/my ops/cfg.yaml'");
        assert_eq!(sh("a%b"), "'a\\%b'");
    }
}

//! What every command receives: global flags, the printer, the cancellation token, and the
//! configuration, loaded on first use (completions and man pages need none).

use std::sync::{Mutex, OnceLock};

use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::config::{self, Loaded, env_vars::ProcessEnv};
use crate::output::Printer;

#[derive(Debug)]
pub struct Context {
    pub global: GlobalArgs,
    pub out: Printer,
    pub cancel: CancellationToken,
    config: OnceLock<Loaded>,
    /// What the job reported for its records (app.rs writes them once, after the command).
    done: Mutex<Done>,
}

/// What a command tells the records written after it: its engine's tally, the database it
/// acted on when not the configured one, and the check to record beside a backup.
#[derive(Debug, Default)]
pub struct Done {
    pub tally: crate::lastrun::Tally,
    pub database: Option<String>,
    pub check: Option<PendingCheck>,
}

/// A verify or drill of a backup: recorded beside it when it ran (app.rs decides, from how the
/// command ended, whether it said anything about the backup).
#[derive(Debug)]
pub struct PendingCheck {
    pub source: crate::repo::Resolved,
    pub kind: crate::repo::CheckKind,
    /// verify: whether the contents were checked (false: encrypted, no key).
    pub contents_checked: Option<bool>,
    pub restore_seconds: Option<f64>,
    /// drill --to-time: the point it restored to.
    pub to_time: Option<String>,
    /// A drill that ran to its end and found these differences.
    pub problems: Vec<String>,
}

impl Context {
    pub fn new(global: GlobalArgs, cancel: CancellationToken) -> Self {
        let out = Printer::new(global.output, global.quiet, global.no_progress)
            .with_json_logs(global.log_format == crate::logging::LogFormat::Json);
        Context { global, out, cancel, config: OnceLock::new(), done: Mutex::new(Done::default()) }
    }

    /// Records what the engine reported (bytes, documents, restore time).
    pub fn tally(&self, tally: crate::lastrun::Tally) {
        self.done.lock().expect("done").tally = tally;
    }

    /// Names the database the job acts on (a restore's target).
    pub fn acts_on(&self, database: &str) {
        self.done.lock().expect("done").database = Some(database.to_owned());
    }

    /// A check to record beside its backup once the command has ended.
    pub fn check(&self, check: PendingCheck) {
        self.done.lock().expect("done").check = Some(check);
    }

    /// What the command reported, taken once by app.rs.
    pub fn take_done(&self) -> Done {
        std::mem::take(&mut *self.done.lock().expect("done"))
    }

    /// The configuration: file, then environment, validated. Errors exit 2.
    pub fn config(&self) -> Result<&Loaded, config::ConfigError> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let loaded = config::load(self.global.config.as_deref(), &ProcessEnv)?;
        Ok(self.config.get_or_init(|| loaded))
    }
}

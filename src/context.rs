//! What every command receives: global flags, the printer, the cancellation token, and the
//! configuration, loaded on first use (completions and man pages need none).

use std::sync::OnceLock;

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
}

impl Context {
    pub fn new(global: GlobalArgs, cancel: CancellationToken) -> Self {
        let out = Printer::new(global.output, global.quiet, global.no_progress)
            .with_json_logs(global.log_format == crate::logging::LogFormat::Json);
        Context { global, out, cancel, config: OnceLock::new() }
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

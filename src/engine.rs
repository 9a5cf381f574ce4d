//! What an engine gets from its caller: the configuration, the cancellation token (SIGINT and
//! SIGTERM), and the printer for progress bars and the JSON summary. Never the command line.

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::output::Printer;

/// What every job engine (restore, drill, verify, cleanup) is given.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub cfg: &'a Config,
    pub cancel: &'a CancellationToken,
    pub out: &'a Printer,
}

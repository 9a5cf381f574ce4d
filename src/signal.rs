//! SIGINT/SIGTERM: the first one cancels the context so jobs clean up and exit 130; a second
//! one, more than a second later, exits at once after the registered abort actions ran.
//!
//! GNU timeout and systemd often deliver a signal twice in quick succession: signals within
//! [`SAME_SIGNAL`] of the first count as one. Jobs register what even an immediate exit must
//! undo ([`on_abort`]: release a Redis lock, remove their own staging files); the
//! registrations are dropped when the job cleaned up normally.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Signals this soon after the first are the same request.
pub const SAME_SIGNAL: Duration = Duration::from_secs(1);

/// How long the immediate exit waits for the abort actions.
const ABORT_BUDGET: Duration = Duration::from_secs(2);

type AbortAction = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

static ABORT: Mutex<Vec<(u64, AbortAction)>> = Mutex::new(Vec::new());
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A registered abort action; dropping it unregisters the action.
#[derive(Debug)]
pub struct AbortRegistration(u64);

impl Drop for AbortRegistration {
    fn drop(&mut self) {
        if let Ok(mut list) = ABORT.lock() {
            list.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Registers what an immediate exit (a second signal) must still do; keep the returned value
/// for as long as it applies.
pub fn on_abort<F, Fut>(action: F) -> AbortRegistration
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let boxed: AbortAction = Box::new(move || Box::pin(action()));
    if let Ok(mut list) = ABORT.lock() {
        list.push((id, boxed));
    }
    AbortRegistration(id)
}

/// Runs every registered abort action, newest first, within [`ABORT_BUDGET`].
async fn run_abort_actions() {
    let actions: Vec<(u64, AbortAction)> =
        ABORT.lock().map(|mut l| l.drain(..).collect()).unwrap_or_default();
    let all = async {
        for (_, action) in actions.into_iter().rev() {
            action().await;
        }
    };
    let _ = tokio::time::timeout(ABORT_BUDGET, all).await;
}

/// The error a job returns when it stopped because it was asked to.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

pub fn install(token: CancellationToken) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            tracing::warn!("cannot install signal handlers; Ctrl-C will not clean up");
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::warn!("interrupted: cleaning up (signal again to stop at once)");
        token.cancel();
        let first = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            if first.elapsed() >= SAME_SIGNAL {
                break;
            }
        }
        tracing::warn!("stopping at once: releasing locks and removing this run's partial files");
        run_abort_actions().await;
        std::process::exit(130);
    });
}

/// `Err(Interrupted)` once the token is cancelled; call between units of work.
pub fn check(token: &CancellationToken) -> Result<(), Interrupted> {
    if token.is_cancelled() { Err(Interrupted) } else { Ok(()) }
}

/// A blocking reader that stops with an error wrapping [`Interrupted`] once the token is
/// cancelled (a long verify or restore stream ends at its next read).
#[derive(Debug)]
pub struct CancelReader<R> {
    inner: R,
    cancel: CancellationToken,
}

impl<R> CancelReader<R> {
    pub fn new(inner: R, cancel: CancellationToken) -> Self {
        CancelReader { inner, cancel }
    }
}

impl<R: std::io::Read> std::io::Read for CancelReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            // Not io::ErrorKind::Interrupted: readers retry on that. Any failure after a
            // signal is reported as an interruption (outcome::classify).
            return Err(std::io::Error::other(Interrupted));
        }
        self.inner.read(buf)
    }
}

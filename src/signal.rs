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

static LOST: Mutex<Option<String>> = Mutex::new(None);

/// Stops the job because something it depends on went away (the lock could not be kept): the
/// job winds down as after a signal, but ends with exit 3 and `message`, not 130.
pub fn stop_lost(token: &CancellationToken, message: String) {
    if let Ok(mut lost) = LOST.lock() {
        lost.get_or_insert(message);
    }
    token.cancel();
}

/// Why the job was stopped, when it was not a signal.
pub fn lost() -> Option<String> {
    LOST.lock().ok().and_then(|l| l.clone())
}

/// The error a job returns when it stopped because it was asked to.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

static PROCESS: std::sync::OnceLock<CancellationToken> = std::sync::OnceLock::new();

/// The token the signal handlers cancel (a fresh one before [`install`]).
pub fn process_token() -> CancellationToken {
    PROCESS.get_or_init(CancellationToken::new).clone()
}

/// Standard input, read on a thread of its own so that a signal stops the reader at once even
/// while nothing arrives (a read blocked on a pipe does not return on a signal). The thread is
/// left behind on a signal; the process ends soon after.
pub fn stdin_reader() -> impl std::io::Read + Send {
    use std::io::Read as _;
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let mut buf = vec![0u8; 1 << 16];
            match stdin.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send(Ok(buf)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
    });
    StdinReader { rx, cancel: process_token(), current: Vec::new(), pos: 0 }
}

struct StdinReader {
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    cancel: CancellationToken,
    current: Vec<u8>,
    pos: usize,
}

impl std::io::Read for StdinReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::sync::mpsc::RecvTimeoutError;
        while self.pos == self.current.len() {
            if self.cancel.is_cancelled() {
                return Err(std::io::Error::other(Interrupted));
            }
            match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.pos = 0;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

pub fn install(token: CancellationToken) {
    let _ = PROCESS.set(token.clone());
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
            // signal is reported as an interruption (classify::classify).
            return Err(std::io::Error::other(Interrupted));
        }
        self.inner.read(buf)
    }
}

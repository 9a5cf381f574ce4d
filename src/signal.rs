//! SIGINT/SIGTERM: the first one cancels the context so jobs clean up and exit 130; a second
//! one exits at once.

use tokio_util::sync::CancellationToken;

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
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
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

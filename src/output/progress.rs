//! Progress for long jobs: one bar per collection (documents, bytes, ETA) on a terminal; on
//! cron or CI (no terminal, `--quiet`, `--no-progress`, `--output json`) one log line per
//! finished collection instead.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::digest::MemberStats;

/// Cheap to clone: clones draw into the same set of bars.
#[derive(Debug, Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
}

#[derive(Debug)]
pub struct Bar {
    name: String,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(out: &super::Printer) -> Self {
        let multi = out
            .progress_enabled()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { multi }
    }

    /// A bar for one collection; `total` is the estimated document count (0 if unknown).
    pub fn collection(&self, name: &str, total: u64) -> Bar {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total.max(1)));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} [{bar:30}] {pos}/{len} docs {msg} {per_sec} ({eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(truncate(name, 24));
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Bar { name: name.to_owned(), bar }
    }

    /// A bar counting steps (`unit`: "collections", "rules") of a job with `total` steps.
    pub fn steps(&self, name: &str, total: u64, unit: &str) -> Steps {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total.max(1)));
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{prefix:>12}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}}"
                ))
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(truncate(name, 12));
            bar
        });
        Steps { bar }
    }

    /// A bar over `total` bytes (0: unknown) of one stream, with rate and ETA (verify,
    /// import, rekey).
    pub fn bytes(&self, name: &str, total: u64) -> Bytes {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total));
            let template = if total > 0 {
                "{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})"
            } else {
                "{prefix:>24} {spinner} {bytes} {bytes_per_sec}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(truncate(name, 24));
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Bytes { bar }
    }

    pub fn finish(&self) {
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }
}

/// Progress in bytes of a stream; on no terminal it draws nothing.
#[derive(Debug, Clone)]
pub struct Bytes {
    bar: Option<ProgressBar>,
}

impl Bytes {
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn clear(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    /// `inner` counted into this bar as it is read.
    pub fn reader<R: std::io::Read>(&self, inner: R) -> CountingReader<R> {
        CountingReader { inner, bar: self.clone() }
    }
}

/// A reader that moves a [`Bytes`] bar.
pub struct CountingReader<R> {
    inner: R,
    bar: Bytes,
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// Progress in steps; on no terminal it draws nothing (the job logs its steps itself).
#[derive(Debug)]
pub struct Steps {
    bar: Option<ProgressBar>,
}

impl Steps {
    /// Whether a bar is drawn (else the caller logs its steps).
    pub fn visible(&self) -> bool {
        self.bar.is_some()
    }

    /// The step now running.
    pub fn working_on(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_owned());
        }
    }

    pub fn step_done(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Bar {
    pub fn set(&self, documents: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            if documents > b.length().unwrap_or(0) {
                b.set_length(documents);
            }
            b.set_position(documents);
            b.set_message(crate::output::human_bytes(bytes));
        }
    }

    /// Removes the bar without a log line (the caller reports the result itself).
    pub fn clear(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    pub fn done(&self, stats: &MemberStats) {
        match &self.bar {
            Some(b) => b.finish_and_clear(),
            None => tracing::info!(
                "{}: {} documents, {}",
                self.name,
                stats.documents,
                crate::output::human_bytes(stats.bytes)
            ),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

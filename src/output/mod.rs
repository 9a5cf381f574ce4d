//! All terminal output: data on stdout, everything else on stderr (STYLE §5).
//!
//! In text mode commands print lines for people with [`Printer::line`]. In JSON mode those lines
//! are swallowed and, when the command ends, exactly one JSON object is printed: the fields of
//! the command's typed summary ([`Printer::summary`], docs/json-output.md), plus `command`,
//! `status`, `exit_code` and `schema_version`. This is the only module allowed to write to
//! stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod progress;

use std::io::Write as _;
use std::sync::Mutex;

use serde_json::{Map, Value};

/// Version of the JSON summary shape; bumped on any incompatible change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// `--output`: text for people, or one JSON object when the command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug)]
pub struct Printer {
    format: OutputFormat,
    progress: bool,
    /// `--log-format json`: the final error goes to stderr as a JSON log line too.
    json_logs: bool,
    summary: Mutex<Map<String, Value>>,
    /// Set when stdout carries data of its own (`backup --stdout`): lines and the JSON
    /// summary go to stderr.
    data_to_stderr: std::sync::atomic::AtomicBool,
}

impl Printer {
    /// `quiet` and `no_progress` are the global flags: with either, no progress bar is drawn.
    pub fn new(format: OutputFormat, quiet: bool, no_progress: bool) -> Self {
        use std::io::IsTerminal as _;
        // Progress bars are drawn only for people: a terminal on stderr, no `--quiet`, no
        // `--no-progress`, no `--output json`.
        let progress = !quiet
            && !no_progress
            && format == OutputFormat::Text
            && std::io::stderr().is_terminal();
        Printer {
            format,
            progress,
            json_logs: false,
            summary: Mutex::new(Map::new()),
            data_to_stderr: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// With `--log-format json`, the final error is a JSON log line like every other.
    #[must_use]
    pub fn with_json_logs(mut self, json_logs: bool) -> Self {
        self.json_logs = json_logs;
        self
    }

    /// From now on, lines and the JSON summary go to stderr: stdout carries the command's data
    /// (`backup --stdout`).
    pub fn keep_stdout_for_data(&self) {
        self.data_to_stderr.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn write(&self, text: &str) {
        if self.data_to_stderr.load(std::sync::atomic::Ordering::Relaxed) {
            eprint!("{text}");
        } else {
            write_stdout(text);
        }
    }

    /// Whether progress bars may be drawn.
    pub fn progress_enabled(&self) -> bool {
        self.progress
    }

    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// A line of data for people; ignored with `--output json`.
    pub fn line(&self, text: impl std::fmt::Display) {
        if !self.is_json() {
            self.write(&format!("{text}\n"));
        }
    }

    /// Raw bytes for stdout in text mode (completion scripts), unchanged.
    pub fn raw(&self, text: &str) {
        if !self.is_json() {
            write_stdout(text);
        }
    }

    /// Records every field of a command's summary type (a struct serializing to an object).
    pub fn summary(&self, value: &impl serde::Serialize) {
        if let Ok(Value::Object(fields)) = serde_json::to_value(value) {
            self.summary.lock().expect("summary lock").extend(fields);
        }
    }

    /// A field recorded so far (for job metrics).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.summary.lock().expect("summary lock").get(key).cloned()
    }

    /// Prints the end of a command: the JSON object, or for text the error and its hint.
    pub fn finish(
        &self,
        command: &str,
        status: &str,
        exit_code: u8,
        error: Option<(&str, Option<&str>)>,
    ) {
        if self.is_json() {
            let mut obj = Map::new();
            obj.insert("command".into(), command.into());
            obj.insert("status".into(), status.into());
            obj.insert("exit_code".into(), exit_code.into());
            obj.insert("schema_version".into(), JSON_SCHEMA_VERSION.into());
            for (k, v) in std::mem::take(&mut *self.summary.lock().expect("summary lock")) {
                obj.entry(k).or_insert(v);
            }
            if let Some((message, hint)) = error {
                let mut e = Map::new();
                e.insert("message".into(), message.into());
                if let Some(h) = hint {
                    e.insert("hint".into(), h.into());
                }
                obj.insert("error".into(), Value::Object(e));
            }
            self.write(&format!("{}\n", Value::Object(obj)));
        }
        if let Some((message, hint)) = error {
            if self.json_logs {
                let mut line = serde_json::json!({
                    "timestamp": jiff::Timestamp::now().to_string(),
                    "level": "ERROR",
                    "message": message,
                    "exit_code": exit_code,
                });
                if let Some(h) = hint {
                    line["hint"] = h.into();
                }
                eprintln!("{line}");
            } else {
                eprintln!("error: {message}");
                if let Some(h) = hint {
                    eprintln!("hint: {h}");
                }
            }
        }
    }
}

impl Printer {
    /// The JSON object for a command line clap refused (the stderr message is clap's).
    /// `--version` with `--output json`: the contract's object with the version.
    pub fn finish_version(&self, version: &str) {
        let obj = serde_json::json!({
            "command": "version",
            "status": "ok",
            "exit_code": 0,
            "schema_version": JSON_SCHEMA_VERSION,
            "version": version,
        });
        write_stdout(&format!("{obj}\n"));
    }

    pub fn finish_usage(&self, message: &str) {
        let obj = serde_json::json!({
            "command": null,
            "status": "failed",
            "exit_code": 2,
            "schema_version": JSON_SCHEMA_VERSION,
            "error": {"message": message, "hint": "run daraa-ops --help"},
        });
        write_stdout(&format!("{obj}\n"));
    }
}

/// Writes to stdout; a closed pipe (`daraa-ops list | head`) ends the process quietly, as
/// ripgrep does.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
    }
}

/// `1.5 MiB`, for people.
/// A table for people: spaces for borders, columns wrapping to fit the terminal, whose width
/// the table finds itself; through a pipe, `$COLUMNS` when set.
pub fn table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<u16>().ok()) {
        t.set_width(w);
    }
    t
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

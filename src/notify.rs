//! Notifications without Prometheus (docs/monitoring.md): one message per job that did not
//! succeed (and, with `notify.on_success`, per job that did) to each configured webhook, as
//! Slack/Mattermost-style JSON (`{"text": …}`) or as a generic JSON object.
//!
//! Webhook URLs are secrets (they carry their token): read from files, never logged, and
//! stripped from error messages. A notification that fails is retried a bounded number of
//! times and logged; it never changes the job's exit code.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::config::{NotifyConfig, WebhookKind};

/// What happened to one job run.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub tool: &'static str,
    pub host: String,
    /// `backup`, `cleanup`, `drill`, … (the command's name).
    pub job: String,
    pub database: String,
    /// `ok`, `partial`, `failed`, `drift`, `unreachable`, `usage`, `locked`, `interrupted`.
    pub outcome: &'static str,
    pub exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_seconds: f64,
}

impl Event {
    /// The one-message text of Slack/Mattermost-style webhooks.
    pub fn text(&self) -> String {
        let mark = if self.exit_code == 0 { "OK" } else { "FAILED" };
        let mut t = format!(
            "daraa-ops {} of {} on {}: {mark} ({}, exit {}, {:.0}s)",
            self.job, self.database, self.host, self.outcome, self.exit_code, self.duration_seconds
        );
        if let Some(e) = &self.error {
            let _ = write!(t, "\nerror: {e}");
        }
        if let Some(h) = &self.hint {
            let _ = write!(t, "\nhint: {h}");
        }
        t
    }

    /// The request body for a webhook of `kind`.
    pub fn body(&self, kind: WebhookKind) -> serde_json::Value {
        match kind {
            WebhookKind::Slack => serde_json::json!({ "text": self.text() }),
            WebhookKind::Json => serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

/// Whether `event` is to be sent under `cfg`.
pub fn wanted(cfg: &NotifyConfig, event: &Event) -> bool {
    !cfg.webhooks.is_empty() && (event.exit_code != 0 || cfg.on_success)
}

/// Sends `event` to every webhook; failures are logged, never returned.
pub async fn send(cfg: &NotifyConfig, event: &Event) {
    if !wanted(cfg, event) {
        return;
    }
    let client = match reqwest::Client::builder().timeout(cfg.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("notification not sent: cannot build the HTTP client: {e}");
            return;
        }
    };
    for (i, hook) in cfg.webhooks.iter().enumerate() {
        let name = format!("notify.webhooks[{i}]");
        let url = match hook.url_file.read(&format!("{name}.url_file")) {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!("notification not sent to {name}: {e}");
                continue;
            }
        };
        let body = event.body(hook.kind);
        let mut last = String::new();
        let mut sent = false;
        for attempt in 1..=cfg.attempts.max(1) {
            let url = secrecy::ExposeSecret::expose_secret(&url);
            match client.post(url).json(&body).send().await {
                Ok(r) if r.status().is_success() => {
                    sent = true;
                    break;
                }
                Ok(r) => last = format!("HTTP {}", r.status()),
                // Without the URL: it is a secret.
                Err(e) => last = e.without_url().to_string(),
            }
            if attempt < cfg.attempts {
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        if !sent {
            tracing::warn!(
                "notification to {name} failed after {} attempt(s): {last}; the job's result stands",
                cfg.attempts.max(1)
            );
        }
    }
}

/// 0.5 s, 1 s, 2 s, then 4 s between attempts.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(4).saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: u8) -> Event {
        Event {
            tool: "daraa-ops",
            host: "db1".into(),
            job: "backup".into(),
            database: "daraa".into(),
            outcome: if code == 0 { "ok" } else { "failed" },
            exit_code: code,
            error: (code != 0).then(|| "cannot write /backups: disk full".into()),
            hint: (code != 0).then(|| "free space".into()),
            started_at: "2026-11-30T03:00:00Z".into(),
            duration_seconds: 12.4,
        }
    }

    #[test]
    fn messages_name_job_database_outcome_error_and_hint() {
        let e = event(1);
        let text = e.text();
        assert!(text.starts_with("daraa-ops backup of daraa on db1: FAILED (failed, exit 1, 12s)"));
        assert!(text.contains("error: cannot write /backups: disk full\nhint: free space"));
        assert_eq!(e.body(WebhookKind::Slack), serde_json::json!({"text": text}));
        let json = e.body(WebhookKind::Json);
        assert_eq!(json["job"], "backup");
        assert_eq!(json["exit_code"], 1);
        assert_eq!(json["hint"], "free space");
        assert!(event(0).body(WebhookKind::Json).get("error").is_none());
    }

    #[test]
    fn successes_are_sent_only_when_asked() {
        let mut cfg = NotifyConfig::default();
        assert!(!wanted(&cfg, &event(1)), "no webhook");
        cfg.webhooks.push(crate::config::Webhook {
            kind: WebhookKind::Json,
            url_file: crate::config::SecretFile("/dev/null".into()),
        });
        assert!(wanted(&cfg, &event(1)));
        assert!(!wanted(&cfg, &event(0)));
        cfg.on_success = true;
        assert!(wanted(&cfg, &event(0)));
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(9), Duration::from_secs(4));
    }
}

//! The one Prometheus text-exposition writer (format 0.0.4) and reader of daraa-ops: `stats
//! --format prometheus` and every job's last-run textfile are written with [`Families`], and
//! read back with [`sample`]. A leaf: knows nothing of the rest of the crate.
//!
//! Names get the `daraa_ops_` prefix; each family has one HELP and one TYPE line and its
//! samples together, so no series appears twice in a file.

use std::fmt::Write as _;

#[derive(Debug, Default)]
/// Metric families in the order they were first added.
pub struct Families {
    order: Vec<String>,
    families: std::collections::HashMap<String, (String, &'static str, Vec<String>)>,
}

pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl Families {
    pub fn add(
        &mut self,
        name: &str,
        kind: &'static str,
        help: &str,
        labels: &[(&str, &str)],
        v: f64,
    ) {
        let full = format!("daraa_ops_{name}");
        let entry = self.families.entry(full.clone()).or_insert_with(|| {
            self.order.push(full.clone());
            (help.to_owned(), kind, Vec::new())
        });
        let labels = if labels.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> =
                labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            format!("{{{}}}", parts.join(","))
        };
        entry.2.push(format!("{full}{labels} {}", value(v)));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for name in &self.order {
            let (help, kind, samples) = &self.families[name];
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for s in samples {
                let _ = writeln!(out, "{s}");
            }
        }
        out
    }
}

/// The value of the first sample of `name` (any labels) in an exposition text.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.strip_prefix(name).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_group_samples_and_sample_reads_them_back() {
        let mut f = Families::default();
        f.add("x_bytes", "gauge", "Bytes.", &[("database", "d\"1")], 5.0);
        f.add("y_total", "counter", "Count.", &[], 1.5);
        f.add("x_bytes", "gauge", "Bytes.", &[("database", "e")], 7.0);
        let text = f.render();
        assert_eq!(
            text,
            "# HELP daraa_ops_x_bytes Bytes.\n# TYPE daraa_ops_x_bytes gauge\n\
             daraa_ops_x_bytes{database=\"d\\\"1\"} 5\ndaraa_ops_x_bytes{database=\"e\"} 7\n\
             # HELP daraa_ops_y_total Count.\n# TYPE daraa_ops_y_total counter\ndaraa_ops_y_total 1.5\n"
        );
        assert_eq!(sample(&text, "daraa_ops_x_bytes"), Some(5.0));
        assert_eq!(sample(&text, "daraa_ops_y_total"), Some(1.5));
        assert_eq!(sample(&text, "daraa_ops_x"), None);
    }
}

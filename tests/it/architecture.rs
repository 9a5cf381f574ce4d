//! docs/architecture.md's map, enforced: which top-level module may import which (`crate::x`
//! paths and `use` lines in src/, tests excluded), and no import circles.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::repo_path;

const ENTRY: &[&str] = &["app", "cli", "outcome", "context"];
const COMMANDS: &[&str] = &["commands"];
const ENGINES: &[&str] =
    &["backup", "restore", "retention", "catalog", "cleanup", "users", "indexes", "stats", "mask"];
const ADAPTERS: &[&str] = &["mongo", "cache", "lock", "storage", "archive", "lastrun", "notify"];
const INFRA: &[&str] = &["config", "output", "logging", "signal", "files", "digest", "metrics"];

fn layer(m: &str) -> usize {
    [ENTRY, COMMANDS, ENGINES, ADAPTERS, INFRA]
        .iter()
        .position(|l| l.contains(&m))
        .unwrap_or_else(|| panic!("module {m} is on no layer of docs/architecture.md"))
}

/// Top-level module → the top-level modules it imports (test modules left out).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let src = repo_path("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            let top = rel.split('/').next().unwrap().trim_end_matches(".rs").to_owned();
            if top == "main" || top == "lib" || rel.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let deps = out.entry(top.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    deps.insert(name);
                }
            }
        }
    }
    out
}

#[test]
fn layers_and_leaves_hold() {
    let imports = imports();
    let mut broken = Vec::new();
    for (m, deps) in &imports {
        for d in deps {
            let (lm, ld) = (layer(m), layer(d));
            // Commands read their arguments (cli) and the Context; commands and engines may raise
            // the edge's CliError/Outcome. Nothing else looks up.
            let command = COMMANDS.contains(&m.as_str());
            let edge_ok = (d == "outcome" && (command || ENGINES.contains(&m.as_str())))
                || (command && (d == "cli" || d == "context"));
            if ld < lm && !edge_ok {
                broken.push(format!("{m} imports {d}, a higher layer"));
            }
        }
    }
    let forbid = |m: &str, banned: &[&str], why: &str, broken: &mut Vec<String>| {
        for d in imports.get(m).into_iter().flatten() {
            if banned.contains(&d.as_str()) {
                broken.push(format!("{m} imports {d}: {why}"));
            }
        }
    };
    forbid(
        "archive",
        &["storage", "mongo", "cache", "lock", "lastrun"],
        "archive is pure (no network)",
        &mut broken,
    );
    forbid("storage", &["mongo", "archive"], "storage is a leaf", &mut broken);
    for a in ADAPTERS {
        forbid(a, &["outcome", "context", "cli"], "adapters know nothing of the CLI", &mut broken);
    }
    assert!(broken.is_empty(), "docs/architecture.md is not true:\n{}", broken.join("\n"));
}

#[test]
fn no_import_circles_and_no_command_calls_another() {
    let imports = imports();
    // Any circle between top-level modules shows as a path back to its start.
    for start in imports.keys() {
        let mut stack: Vec<Vec<&str>> = vec![vec![start.as_str()]];
        while let Some(path) = stack.pop() {
            let last = *path.last().unwrap();
            for d in imports.get(last).into_iter().flatten() {
                assert!(d != start, "import circle: {} -> {d}", path.join(" -> "));
                if !path.contains(&d.as_str()) && imports.contains_key(d) {
                    let mut next = path.clone();
                    next.push(d);
                    stack.push(next);
                }
            }
        }
    }
    for e in std::fs::read_dir(repo_path("src/commands")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().trim_end_matches(".rs").to_owned();
        if name == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        for other in std::fs::read_dir(repo_path("src/commands")).unwrap().flatten() {
            let o = other.file_name().to_string_lossy().trim_end_matches(".rs").to_owned();
            if o != "mod" && o != name {
                for pat in [format!("commands::{o}::"), format!("super::{o}::")] {
                    assert!(!text.contains(&pat), "commands/{name}.rs calls commands/{o}.rs");
                }
            }
        }
    }
}

//! docs/architecture.md's map, enforced over whole files of src/ (tests included): every
//! `crate::` and `super::` path, grouped imports (`crate::{a, b::c}`) expanded, is resolved to
//! the module it names. No arrow may point up a layer, and no two modules under the same
//! parent may import each other, directly or round a circle. There is no exception list.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::repo_path;

/// The layers, top to bottom; a module may import its own layer and the ones below.
const LAYERS: &[(&str, &[&str])] = &[
    ("entry", &["app", "classify", "main", "lib"]),
    ("commands", &["commands"]),
    ("command kit", &["cli", "context"]),
    (
        "engines",
        &[
            "backup",
            "restore",
            "pitr",
            "drill",
            "verify",
            "retention",
            "cleanup",
            "users",
            "indexes",
            "stats",
            "mask",
            "cron",
            "probe",
        ],
    ),
    ("repository", &["repo"]),
    ("adapters", &["mongo", "oplog", "cache", "lock", "storage", "archive", "lastrun", "notify"]),
    (
        "leaves",
        &["error", "engine", "config", "output", "logging", "signal", "files", "digest", "metrics"],
    ),
];

fn layer(top: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, l)| l.contains(&top))
        .unwrap_or_else(|| panic!("module {top} is on no layer of docs/architecture.md"))
}

type Module = Vec<String>;

/// Every module of src/ with its file's text: `a/b.rs` and `a/b/mod.rs` are `a::b`.
fn modules() -> BTreeMap<Module, String> {
    let src = repo_path("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel =
                p.strip_prefix(&src).unwrap().to_string_lossy().trim_end_matches(".rs").to_owned();
            let mut path: Module = rel.split('/').map(str::to_owned).collect();
            if path.last().is_some_and(|l| l == "mod") {
                path.pop();
            }
            out.insert(path, strip_comments(&std::fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

/// The text without `//` comments (doc links are not imports) and string literals.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' && !(prev == '\'' && chars.get(i + 1) == Some(&'\'')) {
                in_str = !in_str;
            } else if !in_str {
                kept.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The paths a use tree names: `a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let segs: Vec<String> = tree
            .split("::")
            .map(|s| s.split(" as ").next().unwrap().trim().to_owned())
            .filter(|s| !s.is_empty() && s != "self" && s != "*")
            .collect();
        return vec![segs];
    };
    let prefix: Vec<String> =
        tree[..open].split("::").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut out = Vec::new();
    for p in parts.into_iter().filter(|p| !p.trim().is_empty()) {
        for rest in expand(p) {
            let mut full = prefix.clone();
            full.extend(rest);
            out.push(full);
        }
    }
    if out.is_empty() {
        out.push(prefix);
    }
    out
}

/// The path after `crate::` or `super::` at `at`: identifiers joined by `::`, up to and
/// including a balanced `{...}` group.
fn path_at(code: &str, at: usize) -> &str {
    let bytes = code.as_bytes();
    let mut i = at;
    let mut depth = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    i += 1;
                    break;
                }
            }
            _ if depth > 0 => {}
            c if c.is_ascii_alphanumeric() || c == '_' || c == ':' => {}
            _ => break,
        }
        i += 1;
    }
    &code[at..i]
}

/// Module → the modules it imports (resolved to the longest module prefix of each path).
fn imports() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    let known: BTreeSet<&Module> = modules.keys().collect();
    let resolve = |full: &[String]| -> Option<Module> {
        (1..=full.len()).rev().map(|n| full[..n].to_vec()).find(|m| known.contains(m))
    };
    let mut out = BTreeMap::new();
    for (m, code) in &modules {
        let mut deps = BTreeSet::new();
        for key in ["crate::", "super::"] {
            for (i, _) in code.match_indices(key) {
                let before = code[..i].chars().next_back().unwrap_or(' ');
                if before.is_ascii_alphanumeric() || before == '_' || before == ':' {
                    continue;
                }
                let text = path_at(code, i);
                // The base: the crate, or the parent of this module once per `super::`.
                let mut base: Module = Vec::new();
                let mut rest = text;
                if let Some(r) = rest.strip_prefix("crate::") {
                    rest = r;
                } else {
                    base.clone_from(m);
                    while let Some(r) = rest.strip_prefix("super::") {
                        base.pop();
                        rest = r;
                    }
                }
                for path in expand(rest) {
                    let mut full = base.clone();
                    full.extend(path);
                    if let Some(t) = resolve(&full)
                        && &t != m
                    {
                        deps.insert(t);
                    }
                }
            }
        }
        out.insert(m.clone(), deps);
    }
    out
}

#[test]
fn the_path_reader_expands_grouped_imports() {
    assert_eq!(
        expand("a::{b, c::{d, e as f}, g::*}"),
        vec![vec!["a", "b"], vec!["a", "c", "d"], vec!["a", "c", "e"], vec!["a", "g"]]
    );
    let code = "use crate::{archive::{reader, writer}, repo};\nlet x = crate::lock::with(cfg);";
    assert_eq!(path_at(code, 4), "crate::{archive::{reader, writer}, repo}");
    assert_eq!(path_at(code, code.find("crate::lock").unwrap()), "crate::lock::with");
    assert_eq!(strip_comments("a // crate::x\n\"crate::y\" b"), "a \n b\n");
}

#[test]
fn no_arrow_points_up_a_layer() {
    let mut broken = Vec::new();
    for (m, deps) in imports() {
        for d in deps {
            if layer(&d[0]) < layer(&m[0]) {
                broken.push(format!(
                    "{} ({}) imports {} ({})",
                    m.join("::"),
                    LAYERS[layer(&m[0])].0,
                    d.join("::"),
                    LAYERS[layer(&d[0])].0
                ));
            }
        }
    }
    assert!(broken.is_empty(), "docs/architecture.md is not true:\n{}", broken.join("\n"));
}

#[test]
fn the_archive_format_does_no_io_of_its_own() {
    // Pure: `Read`/`Write` in, `Read`/`Write` out; no network, no runtime, no adapters.
    for (m, code) in modules().iter().filter(|(m, _)| m[0] == "archive") {
        for banned in ["tokio::", "mongodb::", "aws_sdk", "redis::", "reqwest"] {
            assert!(!code.contains(banned), "{} uses {banned}", m.join("::"));
        }
    }
    for (m, deps) in imports().iter().filter(|(m, _)| m[0] == "archive") {
        for d in deps.iter().filter(|d| d[0] != "archive") {
            assert!(
                layer(&d[0]) == layer("error"),
                "{} imports {}: the archive format imports leaves only",
                m.join("::"),
                d.join("::")
            );
        }
    }
}

/// Under each parent, the graph of its children (a child stands for its whole subtree) must
/// have no circle; commands are siblings that never import each other at all.
#[test]
fn no_import_circles_and_no_command_calls_another() {
    let imports = imports();
    let mut graphs: BTreeMap<Module, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (m, deps) in &imports {
        for d in deps {
            let common = m.iter().zip(d).take_while(|(a, b)| a == b).count();
            if common == m.len() || common == d.len() {
                continue; // an ancestor and its descendant
            }
            graphs
                .entry(m[..common].to_vec())
                .or_default()
                .entry(m[common].clone())
                .or_default()
                .insert(d[common].clone());
        }
    }
    let commands = graphs.get(&vec!["commands".to_owned()]);
    for (from, to) in commands.into_iter().flatten() {
        assert!(to.is_empty(), "commands/{from}.rs calls commands {to:?}");
    }
    for (parent, graph) in &graphs {
        for start in graph.keys() {
            let mut stack: Vec<Vec<&str>> = vec![vec![start.as_str()]];
            while let Some(path) = stack.pop() {
                let last = *path.last().unwrap();
                for d in graph.get(last).into_iter().flatten() {
                    assert!(
                        d != start,
                        "import circle under {}: {} -> {d}",
                        if parent.is_empty() { "crate".to_owned() } else { parent.join("::") },
                        path.join(" -> ")
                    );
                    if !path.contains(&d.as_str()) {
                        let mut next = path.clone();
                        next.push(d);
                        stack.push(next);
                    }
                }
            }
        }
    }
}

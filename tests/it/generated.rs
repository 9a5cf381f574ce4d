//! Committed generated files (completions, man pages, docs/cli.md) must match what the binary
//! generates now. `scripts/gen-docs.sh` rewrites them (`DARAA_UPDATE_GENERATED=1`).

use crate::support::{repo_path, run};

fn check_or_update(rel: &str, fresh: &[u8], stale: &mut Vec<String>) {
    let path = repo_path(rel);
    if crate::support::update_generated() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, fresh).unwrap();
    } else if std::fs::read(&path).ok().as_deref() != Some(fresh) {
        stale.push(rel.to_owned());
    }
}

#[test]
fn generated_files_are_fresh() {
    let mut stale = Vec::new();
    for (shell, file) in
        [("bash", "daraa-ops.bash"), ("zsh", "_daraa-ops"), ("fish", "daraa-ops.fish")]
    {
        let r = run(&["completions", shell], &[]);
        assert_eq!(r.code, 0);
        check_or_update(&format!("completions/{file}"), r.stdout.as_bytes(), &mut stale);
    }
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["man", "--out-dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut pages: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    pages.sort();
    for page in &pages {
        let name = page.file_name().unwrap().to_str().unwrap();
        check_or_update(&format!("docs/man/{name}"), &std::fs::read(page).unwrap(), &mut stale);
    }
    // No stale page left behind for a removed command.
    let committed: Vec<String> = std::fs::read_dir(repo_path("docs/man"))
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    for c in committed {
        assert!(
            pages.iter().any(|p| p.file_name().unwrap().to_string_lossy() == c),
            "docs/man/{c} is no longer generated"
        );
    }
    check_or_update("docs/cli.md", daraa_ops::commands::man::cli_markdown().as_bytes(), &mut stale);
    assert!(stale.is_empty(), "generated files are stale; run scripts/gen-docs.sh: {stale:?}");
}

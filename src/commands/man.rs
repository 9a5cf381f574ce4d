//! `man --out-dir DIR`: one roff page per command, generated from the clap definition.

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::{Cli, ManArgs};
use crate::context::Context;
use crate::error::Outcome;

pub fn run(ctx: &Context, args: &ManArgs) -> anyhow::Result<Outcome> {
    let pages = render_all()?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let mut written = Vec::new();
    for (name, bytes) in &pages {
        let path = args.out_dir.join(name);
        crate::files::write_atomic_mode(&path, bytes, 0o644)
            .with_context(|| format!("cannot write {}", path.display()))?;
        ctx.out.line(path.display());
        written.push(path.display().to_string());
    }
    ctx.out.summary(&Summary { files: written });
    Ok(Outcome::Ok)
}

/// The JSON summary of `man` (docs/cli.md): the pages written.
#[derive(Debug, serde::Serialize)]
struct Summary {
    files: Vec<String>,
}

/// `(file name, roff)` for the top command and every subcommand, depth first.
pub fn render_all() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut pages = Vec::new();
    render(&cmd, "daraa-ops", &mut pages)?;
    Ok(pages)
}

fn render(
    cmd: &clap::Command,
    name: &str,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    let page_cmd = cmd.clone().name(name.to_owned());
    clap_mangen::Man::new(page_cmd).render(&mut buf)?;
    pages.push((format!("{name}.1"), buf));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render(sub, &format!("{name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}

/// docs/cli.md: every command's long help, generated so the reference never drifts.
pub fn cli_markdown() -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = String::from(
        "# daraa-ops command reference\n\n\
         Generated from the clap definition by `scripts/gen-docs.sh`; a test fails when this file is stale.\n\n\
         With `--output json` every command prints one JSON object when it ends; the shape of each\n\
         command's object is in [json-output.md](json-output.md), checked against the binary by a test.\n",
    );
    markdown(&mut cmd, "daraa-ops", &mut out);
    out
}

fn markdown(cmd: &mut clap::Command, name: &str, out: &mut String) {
    use std::fmt::Write as _;
    let help = cmd
        .clone()
        .name(name.to_owned())
        .bin_name(name.to_owned())
        .term_width(100)
        .render_long_help();
    let _ = write!(
        out,
        "\n## `{}`\n\n```text\n{}\n```\n",
        name.replace('-', " ").replacen("daraa ops", "daraa-ops", 1),
        help.to_string().trim_end()
    );
    let names: Vec<String> =
        cmd.get_subcommands().map(|s| s.get_name().to_owned()).filter(|n| n != "help").collect();
    for sub in names {
        if let Some(s) = cmd.find_subcommand_mut(&sub) {
            markdown(s, &format!("{name}-{sub}"), out);
        }
    }
}

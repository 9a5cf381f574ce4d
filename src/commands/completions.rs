//! `completions <shell>`: the script for a shell, generated from the clap definition.

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs};
use crate::context::Context;
use crate::error::Outcome;

pub fn run(ctx: &Context, args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let script = render(args.shell);
    ctx.out.raw(&script);
    ctx.out.summary(&Summary { shell: args.shell.to_string(), script });
    Ok(Outcome::Ok)
}

/// The JSON summary of `completions` (docs/cli.md).
#[derive(Debug, serde::Serialize)]
struct Summary {
    shell: String,
    script: String,
}

pub fn render(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "daraa-ops", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

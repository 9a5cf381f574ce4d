//! `completions <shell>`: the script for a shell, generated from the clap definition.

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs};
use crate::context::Context;
use crate::outcome::Outcome;

pub fn run(ctx: &Context, args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let script = render(args.shell);
    ctx.out.set("shell", args.shell.to_string());
    ctx.out.set("script", &script);
    ctx.out.raw(&script);
    Ok(Outcome::Ok)
}

pub fn render(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "daraa-ops", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

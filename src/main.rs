use clap::Parser;
use jobsctl::{cli::Cli, commands, error::exit, output::Printer};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.format, cli.global.color);
    match commands::run(cli, &printer) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(error) => {
            printer.error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

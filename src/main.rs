use clap::Parser;
use jobsctl::{cli::Cli, commands, error::exit, logging, output::Printer};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        jobsctl::cli::Command::Worker(args) => logging::init_worker(
            cli.global.verbose,
            cli.global.color,
            args.log_format == jobsctl::cli::LogFormat::Json,
        ),
        _ => logging::init(cli.global.verbose, cli.global.color),
    }
    let printer = Printer::with_quiet(cli.global.format, cli.global.color, cli.global.quiet);
    match commands::run(cli, &printer) {
        Ok(()) => ExitCode::from(exit::OK),
        // The reader of stdout went away: nothing is left to say, to anyone.
        Err(error) if error.is_broken_pipe() => ExitCode::from(exit::OK),
        Err(error) => {
            printer.error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

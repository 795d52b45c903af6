//! `jobsctl completions` and `jobsctl man`: generated from the clap
//! definitions, so they always match the command line.

use crate::cli::{Cli, ManArgs};
use crate::error::Error;
use clap::CommandFactory;
use std::io::{self, Write};

pub fn completions(shell: clap_complete::Shell) -> Result<(), Error> {
    let mut command = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut command, "jobsctl", &mut out);
    out.flush()?;
    Ok(())
}

pub fn man(args: &ManArgs) -> Result<(), Error> {
    let mut command = Cli::command();
    command.build();
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::Write {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        clap_mangen::generate_to(command, dir).map_err(|e| Error::Write {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        return Ok(());
    }
    let mut page = command;
    let mut name = String::from("jobsctl");
    for word in &args.command {
        let Some(sub) = page.find_subcommand(word).cloned() else {
            return Err(Error::Usage(format!(
                "jobsctl man: no command `{name} {word}`"
            )));
        };
        name = format!("{name}-{}", sub.get_name());
        page = sub;
    }
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(page).title(name).render(&mut out)?;
    out.flush()?;
    Ok(())
}

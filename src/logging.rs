//! Diagnostic logs with `tracing`, on stderr, off unless asked for:
//! `-v` logs what jobsctl does (the configuration file, where the connection
//! comes from and where it goes — never the password —, the deploy lock,
//! registry migrations, the dev cluster's commands), `-vv` adds every
//! statement batch sent to the server (tokio-postgres' `debug` records),
//! `-vvv` everything. `RUST_LOG` (e.g. `RUST_LOG=jobsctl=debug`), when set,
//! replaces what `-v` chose.

use crate::cli::ColorWhen;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The filter for `-v` repeated `verbose` times.
pub fn directives(verbose: u8) -> &'static str {
    match verbose {
        0 => "off,jobsctl=warn",
        1 => "warn,jobsctl=info",
        2 => "warn,jobsctl=debug,tokio_postgres=debug,postgres=debug",
        _ => "trace",
    }
}

/// Install the subscriber for this process (once; later calls do nothing).
pub fn init(verbose: u8, color: ColorWhen) {
    let filter = filter(directives(verbose), true);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi(color))
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .try_init();
}

/// The worker's logs: one line per job and its lifecycle are `info`, so
/// they show by default (`-q`: warnings only; `-v` adds debug); as text or
/// one JSON object per line.
pub fn init_worker(verbose: u8, color: ColorWhen, json: bool) {
    let default = match verbose {
        0 => "warn,jobsctl=info",
        1 => "warn,jobsctl=debug",
        _ => directives(verbose),
    };
    let filter = filter(default, !json);
    if json {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_current_span(false)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi(color))
        .try_init();
}

/// `RUST_LOG` when set (an invalid one falls back to `default`, with a
/// warning when `warn`), else `default`.
fn filter(default: &str, warn: bool) -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text).unwrap_or_else(|e| {
            if warn {
                eprintln!("warning: RUST_LOG={text:?} is not a valid filter ({e}); using -v's");
            }
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    }
}

/// Colour on stderr: `--color`, where `auto` means a terminal and no
/// `NO_COLOR`.
fn ansi(color: ColorWhen) -> bool {
    match color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

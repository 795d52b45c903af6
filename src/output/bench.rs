//! `jobsctl bench` output: the tables of `bench::human` (and of the deploy
//! scenario), or the report as one JSON document.

use super::Printer;
use crate::bench::{self, BenchReport};
use crate::cli::Format;
use std::io::{self, Write};

impl Printer {
    pub fn bench_report(&self, report: &BenchReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
        }
        let mut out = io::stdout().lock();
        write!(out, "{}", bench::human(report))?;
        if let Some(deploy) = &report.deploy {
            write!(out, "{}", bench::deploy::human(deploy))?;
        }
        if let Some(worker) = &report.worker {
            write!(out, "{}", bench::worker::human(worker))?;
        }
        Ok(())
    }
}

//! `jobsctl plan` as text: extensions, packages and numbered changes in
//! deploy order.

use super::{DIM, EXTENSION, HEADING, PACKAGE, WARN};
use crate::engine::plan::{DeployPlan, PlannedPackage, Step, TransactionMode};
use crate::text::plural;
use std::io::{self, Write};

pub fn human(plan: &DeployPlan) -> io::Result<()> {
    let mut out = anstream::stdout().lock();
    let packages = plan.packages().count();
    let extensions = plan.extensions().count();
    writeln!(
        out,
        "{HEADING}Deploy plan for {}{HEADING:#}: {}, {}, {}",
        plan.workspace,
        plural(packages, "package"),
        plural(extensions, "extension"),
        plural(plan.change_count(), "change"),
    )?;
    let mut number = 0;
    for step in &plan.steps {
        match step {
            Step::Extension { name, required_by } => {
                writeln!(
                    out,
                    "{EXTENSION}extension{EXTENSION:#} {name}  {DIM}CREATE EXTENSION IF NOT EXISTS, needed by {required_by}{DIM:#}"
                )?;
            }
            Step::Package(PlannedPackage {
                name,
                version,
                path,
                depends_on,
                changes,
                ..
            }) => {
                write!(
                    out,
                    "{PACKAGE}package{PACKAGE:#}   {PACKAGE}{name}{PACKAGE:#}"
                )?;
                if let Some(version) = version {
                    write!(out, " {version}")?;
                }
                write!(out, "  {DIM}{path}")?;
                if !depends_on.is_empty() {
                    write!(out, ", after {}", depends_on.join(", "))?;
                }
                writeln!(out, "{DIM:#}")?;
                for change in changes {
                    number += 1;
                    write!(out, "  {number:>3}  {}", change.name)?;
                    for tag in &change.tags {
                        write!(out, " {HEADING}{tag}{HEADING:#}")?;
                    }
                    let own = format!("{name}:");
                    let requires: Vec<&str> = change
                        .requires
                        .iter()
                        .map(|r| r.strip_prefix(&own).unwrap_or(r))
                        .collect();
                    if !requires.is_empty() {
                        write!(out, "  {DIM}requires {}{DIM:#}", requires.join(", "))?;
                    }
                    if let TransactionMode::None { reason } = &change.transaction {
                        write!(out, "  {WARN}[no transaction: {reason}]{WARN:#}")?;
                    }
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(())
}

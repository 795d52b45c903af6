//! `jobsctl plan`: the deploy order, computed without a database.

use crate::cli::PlanArgs;
use crate::engine::plan::deploy_plan;
use crate::error::Error;
use crate::output::Printer;

pub fn run(args: &PlanArgs, printer: &Printer) -> Result<(), Error> {
    let (workspace, resolution) = super::open_workspace(&args.workspace)?;
    printer.plan(&deploy_plan(&workspace, &resolution))?;
    Ok(())
}

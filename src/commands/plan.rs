//! `jobsctl plan`: the deploy order, computed without a database.

use super::project::Project;
use crate::cli::PlanArgs;
use crate::engine::plan::deploy_plan;
use crate::error::Error;
use crate::output::Printer;

pub fn run(project: &Project, args: &PlanArgs, printer: &Printer) -> Result<(), Error> {
    let (workspace, resolution) = super::open_workspace(project, &args.workspace, printer)?;
    printer.plan(&deploy_plan(&workspace, &resolution))?;
    Ok(())
}

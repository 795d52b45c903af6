//! `jobsctl plan`: the deploy order, computed without a database.

use super::project::Project;
use crate::cli::PlanArgs;
use crate::engine::plan::deploy_plan;
use crate::error::Error;
use crate::output::Printer;

pub fn run(project: &Project, args: &PlanArgs, printer: &Printer) -> Result<(), Error> {
    let (workspace, resolution) = super::open_workspace(project, &args.workspace, printer)?;
    let plan = deploy_plan(&workspace, &resolution);
    // Without a database every change is pending, as in a fresh deploy.
    let strict = project.strict(args.workspace.strict);
    super::lint::check(project, &plan, &Default::default(), strict, printer)?;
    printer.plan(&plan)?;
    Ok(())
}

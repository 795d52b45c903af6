//! `--to TARGET`: `change`, `@tag`, `package:change` or `package:@tag`,
//! resolved to a position in the deploy order.

use super::plan::DeployPlan;
use crate::plan::{Target, parse_dependency};

/// The index of the target change in `plan.changes_in_order()`.
pub fn find(plan: &DeployPlan, target: &str) -> Result<usize, String> {
    let reference = parse_dependency(target).map_err(|why| format!("--to {target}: {why}"))?;
    let matches: Vec<(usize, &str, &str)> = plan
        .changes_in_order()
        .enumerate()
        .filter(|(_, (package, _))| {
            reference
                .project
                .as_deref()
                .is_none_or(|p| p == package.name)
        })
        .filter(|(_, (_, change))| match &reference.target {
            Target::Change(name) => change.name == *name,
            Target::Tag(tag) => change.tags.iter().any(|t| t.strip_prefix('@') == Some(tag)),
        })
        .map(|(i, (package, change))| (i, package.name.as_str(), change.name.as_str()))
        .collect();
    match matches.as_slice() {
        [(index, _, _)] => Ok(*index),
        [] => Err(format!(
            "--to {target}: no such change or tag in the selected packages"
        )),
        many => {
            let names: Vec<String> = many.iter().map(|(_, p, c)| format!("{p}:{c}")).collect();
            Err(format!(
                "--to {target} is ambiguous ({}): qualify it with the package, e.g. `package:change`",
                names.join(", ")
            ))
        }
    }
}

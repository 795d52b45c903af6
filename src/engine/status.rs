//! `status`: per package, what is deployed, pending and drifted, read
//! without the lock and without creating anything.

use super::DriftPolicy;
use super::Error;
use super::deploy::DriftPolicies;
use super::plan::DeployPlan;
use super::session::{Opening, Session};
use super::state::ChangeState;
use crate::db::Settings;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub database: String,
    pub registry: bool,
    pub packages: Vec<PackageStatus>,
}

#[derive(Debug, Serialize)]
pub struct PackageStatus {
    pub name: String,
    pub deployed: usize,
    pub pending: Vec<String>,
    pub drifted: Vec<DriftedChange>,
    /// Deployed changes the plan does not have.
    pub unknown: Vec<String>,
    pub last_deployed: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DriftedChange {
    pub change: String,
    pub deployed_hash: String,
    pub local_hash: String,
}

impl StatusReport {
    /// Nothing pending, and no drift that a deploy would refuse (drift kept
    /// under a `warn` policy, as in installed modules, is shown but clean).
    pub fn is_clean(&self, plan: &DeployPlan, drift: &DriftPolicies) -> bool {
        self.packages.iter().all(|p| {
            p.pending.is_empty()
                && (p.drifted.is_empty()
                    || drift.for_package(&p.name, plan.origin_of(&p.name)) == DriftPolicy::Warn)
        })
    }
}

pub fn status(plan: &DeployPlan, settings: &Settings) -> Result<StatusReport, Error> {
    let opening = Opening::read(None);
    let session = Session::open(plan, settings, opening, &mut |_| {})?;
    let state = &session.state;
    let packages = plan
        .packages()
        .map(|planned| {
            let name = planned.name.as_str();
            let mine = state
                .changes
                .iter()
                .filter(|c| std::ptr::eq(c.package, planned));
            let mut package = PackageStatus {
                name: name.to_owned(),
                deployed: 0,
                pending: Vec::new(),
                drifted: Vec::new(),
                unknown: state
                    .unknown
                    .iter()
                    .filter(|d| d.package == name)
                    .map(|d| d.change_name.clone())
                    .collect(),
                last_deployed: None,
            };
            for change in mine {
                match &change.state {
                    ChangeState::Pending => package.pending.push(change.change.name.clone()),
                    ChangeState::Deployed { deployed_at } => {
                        package.deployed += 1;
                        package.last_deployed =
                            package.last_deployed.take().max(Some(deployed_at.clone()));
                    }
                    ChangeState::Drifted {
                        deployed_at,
                        deployed_hash,
                    } => {
                        package.deployed += 1;
                        package.last_deployed =
                            package.last_deployed.take().max(Some(deployed_at.clone()));
                        package.drifted.push(DriftedChange {
                            change: change.change.name.clone(),
                            deployed_hash: deployed_hash.clone(),
                            local_hash: change.change.script_hash.clone(),
                        });
                    }
                }
            }
            package
        })
        .collect();
    Ok(StatusReport {
        database: settings.describe(),
        registry: session.has_registry,
        packages,
    })
}

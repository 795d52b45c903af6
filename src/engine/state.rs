//! Where a database stands against a plan: which changes are deployed,
//! pending or drifted (deployed with a different deploy script), and which
//! deployed changes the plan no longer has. Pure: plan and registry rows in.

use super::plan::{DeployPlan, PlannedChange, PlannedPackage};
use crate::registry::DeployedChange;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChangeState {
    Pending,
    Deployed {
        deployed_at: String,
    },
    /// Deployed, but the local deploy script's hash is not the one recorded.
    Drifted {
        deployed_at: String,
        deployed_hash: String,
    },
}

impl ChangeState {
    pub fn is_deployed(&self) -> bool {
        !matches!(self, ChangeState::Pending)
    }
}

#[derive(Debug)]
pub struct ChangeStatus<'a> {
    pub package: &'a PlannedPackage<'a>,
    pub change: &'a PlannedChange<'a>,
    pub state: ChangeState,
}

#[derive(Debug)]
pub struct State<'a> {
    /// Every change of the plan, in deploy order.
    pub changes: Vec<ChangeStatus<'a>>,
    /// Deployed changes of the plan's packages that the plan does not have.
    pub unknown: Vec<DeployedChange>,
}

pub fn compare<'a>(plan: &'a DeployPlan<'a>, deployed: &[DeployedChange]) -> State<'a> {
    let by_key: HashMap<(&str, &str), &DeployedChange> = deployed
        .iter()
        .map(|d| ((d.package.as_str(), d.change_name.as_str()), d))
        .collect();
    let changes: Vec<ChangeStatus<'a>> = plan
        .changes_in_order()
        .map(|(package, change)| {
            let state = match by_key.get(&(package.name.as_str(), change.name.as_str())) {
                None => ChangeState::Pending,
                Some(d) if d.script_hash == change.script_hash => ChangeState::Deployed {
                    deployed_at: d.deployed_at.clone(),
                },
                Some(d) => ChangeState::Drifted {
                    deployed_at: d.deployed_at.clone(),
                    deployed_hash: d.script_hash.clone(),
                },
            };
            ChangeStatus {
                package,
                change,
                state,
            }
        })
        .collect();
    let packages: Vec<&str> = plan.packages().map(|p| p.name.as_str()).collect();
    // A set, not a scan per deployed change: a no-op deploy of thousands of
    // changes spent most of its CPU comparing names here.
    let planned: HashSet<(&str, &str)> = changes
        .iter()
        .map(|c| (c.package.name.as_str(), c.change.name.as_str()))
        .collect();
    let unknown = deployed
        .iter()
        .filter(|d| packages.contains(&d.package.as_str()))
        .filter(|d| !planned.contains(&(d.package.as_str(), d.change_name.as_str())))
        .cloned()
        .collect();
    State { changes, unknown }
}

impl State<'_> {
    pub fn drifted(&self) -> impl Iterator<Item = &ChangeStatus<'_>> {
        self.changes
            .iter()
            .filter(|c| matches!(c.state, ChangeState::Drifted { .. }))
    }

    pub fn pending(&self) -> impl Iterator<Item = &ChangeStatus<'_>> {
        self.changes
            .iter()
            .filter(|c| c.state == ChangeState::Pending)
    }

    pub fn deployed(&self) -> impl Iterator<Item = &ChangeStatus<'_>> {
        self.changes.iter().filter(|c| c.state.is_deployed())
    }
}

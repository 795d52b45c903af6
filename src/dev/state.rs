//! The state file `jobsctl-dev.json` in the cluster's folder: what `start`
//! reuses from one run to the next (the port, the socket folder, the
//! binaries, and where the server's files are when they had to move).

use super::setup::write_file;
use super::{Cluster, DevError, STATE_FILE};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What `start` reuses from one run to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct State {
    /// Where `pgdata/`, `run/` and `server.log` are, when not beside this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) server_dir: Option<PathBuf>,
    pub(super) port: u16,
    pub(super) socket_dir: PathBuf,
    pub(super) bindir: PathBuf,
    pub(super) version: String,
}

impl Cluster {
    /// What the state file says, if there is one that reads.
    pub(super) fn state(&self) -> Option<State> {
        let text = std::fs::read_to_string(self.dir.join(STATE_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Write `state` to the state file, for the next start.
    pub(super) fn write_state(&self, state: &State) -> Result<(), DevError> {
        let json = serde_json::to_string_pretty(state).expect("state serializes");
        write_file(&self.dir.join(STATE_FILE), &json)
    }
}

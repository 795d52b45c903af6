//! jobsctl: plans, deploys, reverts and verifies pgpm packages against
//! PostgreSQL. See README.md for the user's view and each module's docs for
//! its part; data flows files → plan → package → resolve → engine → output.

pub mod adopt;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod dev;
pub mod engine;
pub mod error;
pub mod interrupt;
pub mod lint;
pub mod locks;
pub mod logging;
pub mod output;
pub mod package;
pub mod plan;
pub mod queue;
pub mod registry;
pub mod resolve;
pub mod scaffold;
pub mod script;
pub mod text;
pub mod worker;

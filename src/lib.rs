//! jobsctl: plans, deploys, reverts and verifies pgpm packages against
//! PostgreSQL. See README.md for the user's view and each module's docs for
//! its part; data flows files → plan → package → resolve → engine → output.

pub mod plan;

//! What jobsctl does to a database, planned without one where possible.

pub mod plan;

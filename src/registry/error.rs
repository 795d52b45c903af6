//! What can go wrong with the registry. The refusals that pgpm's routines
//! raise carry pgpm's exact message text, so an error recorded by jobsctl
//! reads like one recorded by pgpm.

use crate::db::describe_error as describe;
use postgres::error::DbError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// One of jobsctl's registry statements failed; `doing` names the
    /// package and change when there is one.
    #[error("{doing}: {}", describe(source))]
    Query {
        doing: String,
        #[source]
        source: postgres::Error,
    },

    /// A registry migration failed; its transaction was rolled back.
    #[error("installing registry migration {name}: {}", describe(source))]
    Migration {
        name: &'static str,
        #[source]
        source: postgres::Error,
    },

    /// pgpm's `deploy` refusal: the change is recorded with another script.
    #[error("Change {change} already deployed in package {package} with different content")]
    DifferentContent {
        package: String,
        change: String,
        deployed_hash: String,
        script_hash: String,
    },

    /// pgpm's `deploy` refusal: requirements (as given, `package:change`)
    /// that are not deployed, in the order given.
    #[error("Missing required changes for {change}: {}", missing.join(", "))]
    MissingRequirements {
        package: String,
        change: String,
        missing: Vec<String>,
    },

    /// pgpm's `revert` refusal: the change is not deployed.
    #[error("Change {change} not deployed in package {package}")]
    NotDeployed { package: String, change: String },

    /// pgpm's `revert` refusal: deployed changes require this one.
    /// `dependents` are `package:change`; the message lists them as pgpm
    /// does (a dependent that stored the bare local name is shown bare).
    #[error("Cannot revert {change}: required by {}", shown.join(", "))]
    RequiredBy {
        package: String,
        change: String,
        dependents: Vec<String>,
        shown: Vec<String>,
    },

    /// The registry's `UNIQUE (package, script_hash)`: pgpm cannot record two
    /// changes of one package whose deploy scripts are byte-identical.
    #[error(
        "cannot record {package}:{change}: its deploy script is identical to that of {package}:{other} \
         (hash {script_hash}), and pgpm's registry allows one change per script hash in a package; \
         make the scripts differ (e.g. a `-- Deploy {package}:{change}` header)"
    )]
    SameScript {
        package: String,
        change: String,
        other: String,
        script_hash: String,
    },

    /// The registry holds something jobsctl does not understand.
    #[error("unexpected registry content: {0}")]
    Unexpected(String),
}

impl RegistryError {
    pub(crate) fn query(doing: impl Into<String>) -> impl FnOnce(postgres::Error) -> RegistryError {
        let doing = doing.into();
        move |source| RegistryError::Query { doing, source }
    }

    /// The SQLSTATE: the server's for failed statements; `P0001`
    /// (raise_exception, what pgpm's routines raise) for pgpm's refusals;
    /// `23505` for [`RegistryError::SameScript`] (the unique violation it
    /// prevents).
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            RegistryError::Query { source, .. } | RegistryError::Migration { source, .. } => {
                source.code().map(|code| code.code())
            }
            RegistryError::DifferentContent { .. }
            | RegistryError::MissingRequirements { .. }
            | RegistryError::NotDeployed { .. }
            | RegistryError::RequiredBy { .. } => Some("P0001"),
            RegistryError::SameScript { .. } => Some("23505"),
            RegistryError::Unexpected(_) => None,
        }
    }

    /// The server's error, with detail, hint and position, when there is one.
    pub fn db_error(&self) -> Option<&DbError> {
        match self {
            RegistryError::Query { source, .. } | RegistryError::Migration { source, .. } => {
                source.as_db_error()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_like_pgpm_and_carry_raise_exception() {
        let different = RegistryError::DifferentContent {
            package: "pkg".into(),
            change: "schema".into(),
            deployed_hash: "aa".into(),
            script_hash: "bb".into(),
        };
        assert_eq!(
            different.to_string(),
            "Change schema already deployed in package pkg with different content"
        );
        let missing = RegistryError::MissingRequirements {
            package: "pkg".into(),
            change: "table".into(),
            missing: vec!["pkg:schema".into(), "other:base".into()],
        };
        assert_eq!(
            missing.to_string(),
            "Missing required changes for table: pkg:schema, other:base"
        );
        let not_deployed = RegistryError::NotDeployed {
            package: "pkg".into(),
            change: "x".into(),
        };
        assert_eq!(
            not_deployed.to_string(),
            "Change x not deployed in package pkg"
        );
        let required = RegistryError::RequiredBy {
            package: "pkg".into(),
            change: "schema".into(),
            dependents: vec!["other:x".into(), "pkg:table".into()],
            shown: vec!["other:x".into(), "table".into()],
        };
        assert_eq!(
            required.to_string(),
            "Cannot revert schema: required by other:x, table"
        );
        for error in [different, missing, not_deployed, required] {
            assert_eq!(error.sqlstate(), Some("P0001"));
            assert!(error.db_error().is_none());
        }
    }

    #[test]
    fn same_script_names_both_changes() {
        let error = RegistryError::SameScript {
            package: "pkg".into(),
            change: "b".into(),
            other: "a".into(),
            script_hash: "cafe".into(),
        };
        let text = error.to_string();
        assert!(
            text.contains("pkg:b") && text.contains("pkg:a") && text.contains("cafe"),
            "{text}"
        );
        assert_eq!(error.sqlstate(), Some("23505"));
    }
}

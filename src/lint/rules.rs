//! Which squawk rules run, and how jobsctl.toml changes that.
//!
//! jobsctl enables an explicit list ([`ENABLED`]) rather than squawk's
//! defaults: the rules about locks, table rewrites and statements that fail
//! in a deploy, plus the ones that break code still running against the
//! old schema. Style rules (`prefer-text-field`, ...) and rules about what
//! jobsctl does itself (transaction statements, timeouts) are left out;
//! `enable` turns any squawk rule on, `ignore` turns one off.
//!
//! ```toml
//! [lint]                                  # every package
//! ignore = ["renaming-column"]
//! enable = ["prefer-timestamptz"]
//!
//! [packages.app.lint]                     # one package
//! ignore = ["adding-field-with-default"]
//! allow = [
//!   { change = "tables/users/index", rule = "require-concurrent-index-creation", reason = "users has 12 rows" },
//! ]
//! ```

use squawk_linter::Rule;
use std::collections::{BTreeMap, BTreeSet};

/// The rules jobsctl runs unless configured otherwise, with what each catches.
pub const ENABLED: &[Rule] = &[
    Rule::RequireConcurrentIndexCreation,
    Rule::RequireConcurrentIndexDeletion,
    Rule::RequireConcurrentReindex,
    Rule::RequireConcurrentPartitionDetach,
    Rule::ConstraintMissingNotValid,
    Rule::AddingForeignKeyConstraint,
    Rule::AddingFieldWithDefault,
    Rule::AddingNotNullableField,
    Rule::AddingRequiredField,
    Rule::AddingSerialPrimaryKeyField,
    Rule::ChangingColumnType,
    Rule::DisallowedUniqueConstraint,
    Rule::BanAlterDomainWithAddConstraint,
    Rule::BanDropColumn,
    Rule::BanDropTable,
    Rule::RenamingColumn,
    Rule::RenamingTable,
];

/// The rule name of problems with `jobsctl:lint-ignore` directives
/// themselves; it cannot be silenced.
pub const DIRECTIVE_RULE: &str = "lint-directive";

/// `ban-concurrent-index-creation-in-transaction` is not in the list: a
/// change with `CREATE INDEX CONCURRENTLY` runs outside a transaction
/// (jobsctl sees to that), and a script that wraps it in its own
/// `BEGIN`/`COMMIT` is refused by `plan` before any lint.
///
/// How bad a finding is before `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    /// The statement fails at deploy time whatever the table holds.
    Error,
}

pub fn severity(rule: Rule) -> Severity {
    match rule {
        Rule::BanConcurrentIndexCreationInTransaction => Severity::Error,
        _ => Severity::Warning,
    }
}

/// `[lint]` and `[packages.NAME.lint]` of jobsctl.toml, as written.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSettings {
    /// Rules not to run.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// squawk rules to run besides the enabled ones.
    #[serde(default)]
    pub enable: Vec<String>,
    /// One rule silenced for one change (packages only), with the reason.
    #[serde(default)]
    pub allow: Vec<Allow>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    pub change: String,
    pub rule: String,
    pub reason: String,
}

/// A rule silenced for one change of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub package: String,
    pub change: String,
    pub rule: Rule,
    pub reason: String,
    /// `jobsctl.toml`, or `jobsctl` for the built-in ones of the embedded
    /// packages.
    pub by: &'static str,
}

/// A setting that names something squawk does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{section}.{key}: no rule `{name}` (see docs/lint.md for the names)")]
    UnknownRule {
        section: String,
        key: &'static str,
        name: String,
    },
    #[error("{section}.allow: `allow` needs a package: write it in [packages.NAME.lint]")]
    AllowOutsidePackage { section: String },
    #[error("{section}.allow: the entry for `{change}` needs a reason")]
    AllowWithoutReason { section: String, change: String },
}

/// The resolved rule configuration of a run.
#[derive(Debug, Clone, Default)]
pub struct RuleConfig {
    global_enable: BTreeSet<RuleKey>,
    global_ignore: BTreeSet<RuleKey>,
    packages: BTreeMap<String, (BTreeSet<RuleKey>, BTreeSet<RuleKey>)>,
    allowances: Vec<Allowance>,
}

/// `Rule` is not `Ord`; its name is.
type RuleKey = String;

fn parse_rules(
    names: &[String],
    section: &str,
    key: &'static str,
) -> Result<BTreeSet<RuleKey>, SettingsError> {
    names
        .iter()
        .map(|name| {
            name.parse::<Rule>()
                .map(|rule| rule.to_string())
                .map_err(|_| SettingsError::UnknownRule {
                    section: section.to_owned(),
                    key,
                    name: name.clone(),
                })
        })
        .collect()
}

impl RuleConfig {
    /// The settings of `[lint]` and of each `[packages.NAME.lint]`, plus the
    /// built-in allowances of the embedded packages.
    pub fn new<'a>(
        global: &LintSettings,
        packages: impl IntoIterator<Item = (&'a str, &'a LintSettings)>,
        built_in: Vec<Allowance>,
    ) -> Result<RuleConfig, SettingsError> {
        if !global.allow.is_empty() {
            return Err(SettingsError::AllowOutsidePackage {
                section: "lint".into(),
            });
        }
        let mut config = RuleConfig {
            global_enable: parse_rules(&global.enable, "lint", "enable")?,
            global_ignore: parse_rules(&global.ignore, "lint", "ignore")?,
            packages: BTreeMap::new(),
            allowances: built_in,
        };
        for (name, settings) in packages {
            let section = format!("packages.{name}.lint");
            let enable = parse_rules(&settings.enable, &section, "enable")?;
            let ignore = parse_rules(&settings.ignore, &section, "ignore")?;
            config.packages.insert(name.to_owned(), (enable, ignore));
            for allow in &settings.allow {
                let rule = allow
                    .rule
                    .parse::<Rule>()
                    .map_err(|_| SettingsError::UnknownRule {
                        section: section.clone(),
                        key: "allow",
                        name: allow.rule.clone(),
                    })?;
                if allow.reason.trim().is_empty() {
                    return Err(SettingsError::AllowWithoutReason {
                        section,
                        change: allow.change.clone(),
                    });
                }
                config.allowances.push(Allowance {
                    package: name.to_owned(),
                    change: allow.change.clone(),
                    rule,
                    reason: allow.reason.trim().to_owned(),
                    by: "jobsctl.toml",
                });
            }
        }
        Ok(config)
    }

    /// The rules that run on `package`'s scripts.
    pub fn rules_for(&self, package: &str) -> Vec<Rule> {
        let (enable, ignore) = self
            .packages
            .get(package)
            .map_or((None, None), |(e, i)| (Some(e), Some(i)));
        let enabled = ENABLED
            .iter()
            .map(ToString::to_string)
            .chain(self.global_enable.iter().cloned())
            .chain(enable.into_iter().flatten().cloned());
        let mut rules: Vec<Rule> = Vec::new();
        for name in enabled {
            if self.global_ignore.contains(&name) || ignore.is_some_and(|i| i.contains(&name)) {
                continue;
            }
            let rule: Rule = name.parse().expect("names were parsed from rules");
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        rules
    }

    /// The names of the rules that run on a package without settings of
    /// its own.
    pub fn default_rules(&self) -> Vec<String> {
        self.rules_for("").iter().map(ToString::to_string).collect()
    }

    /// The allowance that silences `rule` in `package:change`, if any.
    pub fn allowance(&self, package: &str, change: &str, rule: Rule) -> Option<&Allowance> {
        self.allowances
            .iter()
            .find(|a| a.package == package && a.change == change && a.rule == rule)
    }
}

//! Migration lint: squawk's rules over the deploy scripts a run would
//! execute, made plan-aware. Pure: the caller says which changes are
//! deployed (from the registry, or none without a database), this module
//! reads no file and opens no connection.
//!
//! - `rules.rs`: the enabled rules, severities, jobsctl.toml settings;
//! - `plan_aware.rs`: tables a run creates and the table a statement
//!   targets, so that lock findings on a table new in this run are dropped;
//! - `directive.rs`: `-- jobsctl:lint-ignore RULE: REASON` comments;
//! - `embedded.rs`: the silenced findings of jobsctl's released embedded
//!   scripts (which must not change by a byte).
//!
//! Only deploy scripts are linted: revert scripts undo a change by
//! dropping what it created, so most of them would trip the drop rules,
//! and they run rarely and on purpose.
//!
//! What squawk sees is the script as jobsctl runs it: its own `BEGIN` and
//! `COMMIT` blanked out (byte for byte, so positions still match the file),
//! with `assume_in_transaction` set when the change runs in jobsctl's
//! transaction and unset when it runs without one (`-- jobsctl:no-transaction`,
//! or a statement such as `CREATE INDEX CONCURRENTLY` that makes it so).

mod directive;
pub mod embedded;
mod plan_aware;
pub mod rules;

pub use directive::DirectiveError;
pub use plan_aware::TableName;
pub use rules::{Allowance, LintSettings, RuleConfig, SettingsError, Severity};

use crate::script::{Script, StatementKind};
use serde::Serialize;
use squawk_linter::Linter;
use squawk_syntax::SourceFile;

/// One change's deploy script, as the run would execute it.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'a> {
    pub package: &'a str,
    pub change: &'a str,
    /// The deploy script's path as jobsctl shows it.
    pub path: &'a str,
    pub script: &'a Script,
    /// Runs inside jobsctl's transaction (else statement by statement).
    pub transactional: bool,
    /// Deployed already (the registry says so): not linted, and its tables
    /// are not new.
    pub deployed: bool,
}

/// Where in a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub package: String,
    pub change: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
}

/// A rule that found something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    #[serde(flatten)]
    pub at: Location,
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// squawk's suggested edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The replacement text (empty: delete).
    pub text: String,
}

/// A finding silenced with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Silenced {
    #[serde(flatten)]
    pub at: Location,
    pub rule: String,
    pub reason: String,
    /// `directive`, `jobsctl.toml`, or `jobsctl` (the embedded packages).
    pub by: &'static str,
}

/// A lock finding dropped because its table is new in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exempt {
    #[serde(flatten)]
    pub at: Location,
    pub rule: String,
    pub table: String,
    /// `package:change` that creates it (this change: earlier in the script).
    pub created_by: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LintReport {
    /// Deploy scripts linted (the pending changes).
    pub linted: usize,
    /// Changes left out because they are deployed.
    pub deployed: usize,
    pub findings: Vec<Finding>,
    pub silenced: Vec<Silenced>,
    pub exempt: Vec<Exempt>,
}

impl LintReport {
    /// Findings that are errors: all of them with `strict`.
    pub fn errors(&self, strict: bool) -> usize {
        self.findings
            .iter()
            .filter(|f| strict || f.severity == Severity::Error)
            .count()
    }
}

/// Lint the pending units, in order (deploy order).
pub fn lint(units: &[Unit], config: &RuleConfig) -> LintReport {
    let mut report = LintReport::default();
    // Tables created by the pending changes linted so far.
    let mut created: Vec<(TableName, String)> = Vec::new();
    for unit in units {
        if unit.deployed {
            report.deployed += 1;
            continue;
        }
        report.linted += 1;
        lint_unit(unit, config, &mut created, &mut report);
    }
    report
}

fn lint_unit(
    unit: &Unit,
    config: &RuleConfig,
    created: &mut Vec<(TableName, String)>,
    report: &mut LintReport,
) {
    let script = unit.script;
    let text = without_transaction_control(script);
    let parse = SourceFile::parse(&text);
    let file = parse.tree();
    if !parse.errors().is_empty() {
        tracing::debug!(
            path = unit.path,
            errors = parse.errors().len(),
            "squawk could not parse all of the script; linting what it parsed"
        );
    }
    let statements = plan_aware::statements(&file);
    let starts: Vec<usize> = statements.iter().map(|s| s.start).collect();
    let header_end = script.statements.first().map_or(text.len(), |s| s.start);
    let (directives, directive_errors) = directive::directives(&file, header_end, &starts);
    let this_change = format!("{}:{}", unit.package, unit.change);
    let at = |offset: usize| {
        let (line, column) = script.line_col_of_byte(offset);
        Location {
            package: unit.package.to_owned(),
            change: unit.change.to_owned(),
            path: unit.path.to_owned(),
            line,
            column,
        }
    };
    for (offset, error) in directive_errors {
        report.findings.push(Finding {
            at: at(offset),
            rule: rules::DIRECTIVE_RULE.to_owned(),
            severity: Severity::Warning,
            message: error.to_string(),
            help: None,
            fix: None,
        });
    }

    let mut linter = Linter::from(config.rules_for(unit.package));
    linter.settings.assume_in_transaction = unit.transactional;
    // The oldest PostgreSQL jobsctl supports (README, "Supported PostgreSQL versions").
    if let Ok(version) = "13".parse() {
        linter.settings.pg_version = version;
    }
    for violation in linter.lint(&parse, &text) {
        let start = usize::from(violation.text_range.start());
        let rule = violation.code;
        let index = plan_aware::statement_at(&statements, start);
        if plan_aware::is_table_lock_rule(rule)
            && let Some(index) = index
            && let Some(target) = &statements[index].targets
        {
            let earlier_here = statements[..index]
                .iter()
                .filter_map(|s| s.creates.as_ref())
                .any(|t| t.matches(target));
            let earlier_change = created
                .iter()
                .find(|(t, _)| t.matches(target))
                .map(|(_, by)| by.clone());
            if let Some(by) = earlier_here.then(|| this_change.clone()).or(earlier_change) {
                report.exempt.push(Exempt {
                    at: at(start),
                    rule: rule.to_string(),
                    table: target.to_string(),
                    created_by: by,
                });
                continue;
            }
        }
        let directive = directives.iter().find(|d| {
            d.rules.contains(&rule)
                && match d.scope {
                    directive::Scope::File => true,
                    directive::Scope::Statement(i) => Some(i) == index,
                    directive::Scope::Nothing => false,
                }
        });
        if let Some(directive) = directive {
            report.silenced.push(Silenced {
                at: at(start),
                rule: rule.to_string(),
                reason: directive.reason.clone(),
                by: "directive",
            });
            continue;
        }
        if let Some(allowance) = config.allowance(unit.package, unit.change, rule) {
            report.silenced.push(Silenced {
                at: at(start),
                rule: rule.to_string(),
                reason: allowance.reason.clone(),
                by: allowance.by,
            });
            continue;
        }
        report.findings.push(Finding {
            at: at(start),
            rule: rule.to_string(),
            severity: rules::severity(rule),
            message: violation.message,
            help: violation.help,
            fix: violation.fix.map(|fix| Fix {
                title: fix.title,
                edits: fix
                    .edits
                    .iter()
                    .map(|edit| {
                        let (line, column) =
                            script.line_col_of_byte(usize::from(edit.text_range.start()));
                        let (end_line, end_column) =
                            script.line_col_of_byte(usize::from(edit.text_range.end()));
                        Edit {
                            line,
                            column,
                            end_line,
                            end_column,
                            text: edit.text.clone().unwrap_or_default(),
                        }
                    })
                    .collect(),
            }),
        });
    }
    created.extend(
        statements
            .iter()
            .filter_map(|s| s.creates.clone())
            .map(|t| (t, this_change.clone())),
    );
}

/// The script with its own transaction statements replaced by spaces, byte
/// for byte (newlines kept), so that squawk's offsets are the file's.
fn without_transaction_control(script: &Script) -> String {
    let mut text = script.text.clone().into_bytes();
    for statement in script
        .statements
        .iter()
        .filter(|s| matches!(s.kind, StatementKind::TransactionControl(_)))
    {
        for byte in &mut text[statement.start..statement.end] {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b' ';
            }
        }
    }
    // Replacing whole statements (which start and end on char boundaries)
    // byte by byte with ASCII keeps the text valid UTF-8.
    String::from_utf8(text).unwrap_or_else(|_| script.text.clone())
}

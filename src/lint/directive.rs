//! `-- jobsctl:lint-ignore RULE[, RULE...]: REASON`: a line comment that
//! silences rules, with the reason written down.
//!
//! Placed before the script's first statement (in its header, where
//! `-- jobsctl:no-transaction` goes too; a `BEGIN` is a statement), it
//! applies to the whole script;
//! anywhere else, to the next statement. Like the other directives it is
//! case-insensitive and allows whitespace around the colon after `jobsctl`.
//! A directive without a reason, without a rule, or naming a rule squawk
//! does not know is itself reported (rule `lint-directive`), and silences
//! nothing.

use squawk_linter::Rule;
use squawk_syntax::{SourceFile, SyntaxKind, ast::AstNode};

/// Where a directive applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole script (the directive is in its header).
    File,
    /// The top-level statement with this index.
    Statement(usize),
    /// The script ends after the directive: it applies to nothing.
    Nothing,
}

#[derive(Debug, Clone)]
pub struct Directive {
    pub rules: Vec<Rule>,
    pub reason: String,
    pub scope: Scope,
}

/// A comment that starts like a directive but is not a valid one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectiveError {
    #[error("`jobsctl:lint-ignore` needs a rule: `-- jobsctl:lint-ignore RULE: REASON`")]
    NoRule,
    #[error("`jobsctl:lint-ignore {0}`: no such rule (see `jobsctl lint --help` and docs/lint.md)")]
    UnknownRule(String),
    #[error(
        "`jobsctl:lint-ignore {0}` needs a reason after a colon: `-- jobsctl:lint-ignore {0}: why it is safe here`"
    )]
    NoReason(String),
}

/// Every directive of a script, and the comments that look like one but
/// are not valid (with their byte offsets). `header_end` is where the
/// script's first statement starts (its own `BEGIN` counts);
/// `statement_starts` are the byte offsets of the statements squawk lints,
/// in order.
pub fn directives(
    file: &SourceFile,
    header_end: usize,
    statement_starts: &[usize],
) -> (Vec<Directive>, Vec<(usize, DirectiveError)>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for element in file.syntax().descendants_with_tokens() {
        let Some(token) = element.into_token() else {
            continue;
        };
        if token.kind() != SyntaxKind::COMMENT {
            continue;
        }
        let Some(body) = token.text().strip_prefix("--") else {
            continue;
        };
        let offset = usize::from(token.text_range().start());
        let end = usize::from(token.text_range().end());
        match parse(body) {
            None => {}
            Some(Err(error)) => errors.push((offset, error)),
            Some(Ok((rules, reason))) => {
                let scope = if end <= header_end {
                    Scope::File
                } else {
                    statement_starts
                        .iter()
                        .position(|start| *start >= end)
                        .map_or(Scope::Nothing, Scope::Statement)
                };
                found.push(Directive {
                    rules,
                    reason,
                    scope,
                });
            }
        }
    }
    (found, errors)
}

/// `None`: not a lint directive at all.
fn parse(comment: &str) -> Option<Result<(Vec<Rule>, String), DirectiveError>> {
    let rest = strip_prefix_ignore_case(comment.trim_start(), "jobsctl")?;
    let rest = rest.trim_start().strip_prefix(':')?;
    let rest = strip_prefix_ignore_case(rest.trim_start(), "lint-ignore")?;
    if !rest
        .chars()
        .next()
        .is_none_or(|c| c.is_whitespace() || c == ':')
    {
        return None;
    }
    let (names, reason) = match rest.split_once(':') {
        Some((names, reason)) => (names, reason.trim()),
        None => (rest, ""),
    };
    let names: Vec<&str> = names
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Some(Err(DirectiveError::NoRule));
    }
    let mut rules = Vec::new();
    for name in &names {
        match name.parse::<Rule>() {
            Ok(rule) => rules.push(rule),
            Err(_) => return Some(Err(DirectiveError::UnknownRule((*name).to_owned()))),
        }
    }
    if reason.is_empty() {
        return Some(Err(DirectiveError::NoReason(names.join(", "))));
    }
    Some(Ok((rules, reason.to_owned())))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix))
    .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_names_rules_and_a_reason() {
        let (rules, reason) = parse(
            " jobsctl:lint-ignore require-concurrent-index-creation, changing-column-type: empty table",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            rules,
            [
                Rule::RequireConcurrentIndexCreation,
                Rule::ChangingColumnType
            ]
        );
        assert_eq!(reason, "empty table");
    }

    #[test]
    fn other_comments_are_not_directives() {
        assert!(parse(" jobsctl:no-transaction").is_none());
        assert!(parse(" just a comment").is_none());
        assert!(parse(" jobsctl:lint-ignored x: y").is_none());
    }

    #[test]
    fn a_directive_without_reason_or_with_an_unknown_rule_is_an_error() {
        assert_eq!(
            parse(" jobsctl:lint-ignore changing-column-type").unwrap(),
            Err(DirectiveError::NoReason("changing-column-type".into()))
        );
        assert_eq!(
            parse(" JOBSCTL : lint-ignore no-such-rule: why").unwrap(),
            Err(DirectiveError::UnknownRule("no-such-rule".into()))
        );
        assert_eq!(
            parse(" jobsctl:lint-ignore : why").unwrap(),
            Err(DirectiveError::NoRule)
        );
    }
}

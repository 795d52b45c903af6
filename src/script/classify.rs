//! Classification: whether a statement is transaction control, cannot run inside a
//! transaction block (the table in the module docs of [`crate::script`]), or anything else,
//! read from its leading keywords.

use super::{StatementKind, TxControl};
use sqlparser::tokenizer::Token;

pub(super) fn unquoted_word(token: &Token) -> Option<&str> {
    match token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.as_str()),
        _ => None,
    }
}

/// The significant tokens of one statement, with keyword helpers.
pub(super) struct Words<'a> {
    pub(super) tokens: Vec<&'a Token>,
}

impl<'a> Words<'a> {
    pub(super) fn len(&self) -> usize {
        self.tokens.len()
    }

    pub(super) fn word(&self, i: usize) -> Option<&'a str> {
        self.tokens.get(i).copied().and_then(unquoted_word)
    }

    /// Whether token `i` is the unquoted keyword `keyword` (ASCII case-insensitive).
    pub(super) fn is(&self, i: usize, keyword: &str) -> bool {
        self.word(i)
            .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
    }

    /// The keyword among `keywords` that token `i` is, in the spelling given.
    pub(super) fn which(&self, i: usize, keywords: &[&'static str]) -> Option<&'static str> {
        keywords.iter().copied().find(|k| self.is(i, k))
    }

    /// Index just after the parenthesised group starting at `i`, or `i` if there is none.
    pub(super) fn after_group(&self, i: usize) -> usize {
        if self.tokens.get(i) != Some(&&Token::LParen) {
            return i;
        }
        let mut depth = 0usize;
        for (j, token) in self.tokens.iter().enumerate().skip(i) {
            match token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth == 0 {
                return j + 1;
            }
        }
        self.len()
    }

    /// Whether the keywords `sequence` appear consecutively outside parentheses.
    pub(super) fn has_top_level(&self, sequence: &[&str]) -> bool {
        let starts_here = |i: usize| {
            sequence
                .iter()
                .enumerate()
                .all(|(k, kw)| self.is(i + k, kw))
        };
        let mut depth = 0usize;
        for (i, token) in self.tokens.iter().enumerate() {
            match token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                _ if depth == 0 && starts_here(i) => return true,
                _ => {}
            }
        }
        false
    }

    /// Whether the option `name` (e.g. in `WITH (name = false)`) is followed by a false value
    /// in tokens `range`.
    pub(super) fn option_is_false(&self, range: std::ops::Range<usize>, name: &str) -> bool {
        range
            .into_iter()
            .any(|i| self.is(i, name) && self.option_value_is_false(i))
    }

    /// Whether the option `name` appears in `range` without a false value.
    pub(super) fn option_is_true(&self, range: std::ops::Range<usize>, name: &str) -> bool {
        range
            .into_iter()
            .any(|i| self.is(i, name) && !self.option_value_is_false(i))
    }

    fn option_value_is_false(&self, name_at: usize) -> bool {
        let value_at = if self.tokens.get(name_at + 1) == Some(&&Token::Eq) {
            name_at + 2
        } else {
            name_at + 1
        };
        self.tokens.get(value_at).is_some_and(|t| is_false_value(t))
    }

    pub(super) fn all(&self) -> std::ops::Range<usize> {
        0..self.len()
    }

    pub(super) fn is_copy_from_stdin(&self) -> bool {
        self.is(0, "COPY")
            && (self.has_top_level(&["FROM", "STDIN"])
                || self
                    .tokens
                    .iter()
                    .any(|t| matches!(t, Token::CopyData { .. })))
    }
}

pub(super) fn is_false_value(token: &Token) -> bool {
    let falsy = |s: &str| {
        ["false", "off", "no", "0"]
            .iter()
            .any(|f| s.eq_ignore_ascii_case(f))
    };
    match token {
        Token::Word(w) => w.quote_style.is_none() && falsy(&w.value),
        Token::SingleQuotedString(s) => falsy(s),
        Token::Number(n, _) => n == "0",
        _ => false,
    }
}

pub(super) fn classify(words: &Words) -> StatementKind {
    if let Some(kind) = transaction_statement(words) {
        return kind;
    }
    match non_transactional_name(words) {
        Some(name) => StatementKind::NonTransactional(name),
        None => StatementKind::Other,
    }
}

/// Transaction control, plus the two-phase-commit statements that look like it but are
/// non-transactional.
pub(super) fn transaction_statement(w: &Words) -> Option<StatementKind> {
    use TxControl::*;
    let first = w.which(
        0,
        &[
            "BEGIN",
            "START",
            "COMMIT",
            "END",
            "ROLLBACK",
            "ABORT",
            "SAVEPOINT",
            "RELEASE",
        ],
    )?;
    let control = match first {
        "COMMIT" | "ROLLBACK" if w.is(1, "PREPARED") => {
            return Some(StatementKind::NonTransactional(format!("{first} PREPARED")));
        }
        "BEGIN" => begins_transaction(w).then_some(Begin)?,
        "START" => w.is(1, "TRANSACTION").then_some(Begin)?,
        "COMMIT" | "END" => ends_chain_clause(w).then_some(Commit)?,
        "ROLLBACK" | "ABORT" => rollback_kind(w)?,
        "SAVEPOINT" => Savepoint,
        "RELEASE" => Release,
        _ => return None,
    };
    Some(StatementKind::TransactionControl(control))
}

/// `BEGIN` alone or followed by WORK/TRANSACTION or a transaction mode (not `BEGIN ATOMIC`).
pub(super) fn begins_transaction(w: &Words) -> bool {
    const FOLLOWERS: &[&str] = &[
        "WORK",
        "TRANSACTION",
        "ISOLATION",
        "READ",
        "NOT",
        "DEFERRABLE",
    ];
    w.len() == 1 || w.which(1, FOLLOWERS).is_some()
}

pub(super) fn skip_work_or_transaction(w: &Words, i: usize) -> usize {
    if w.which(i, &["WORK", "TRANSACTION"]).is_some() {
        i + 1
    } else {
        i
    }
}

/// `COMMIT|END [WORK|TRANSACTION] [AND [NO] CHAIN]`
pub(super) fn ends_chain_clause(w: &Words) -> bool {
    let i = skip_work_or_transaction(w, 1);
    i >= w.len() || w.is(i, "AND")
}

pub(super) fn rollback_kind(w: &Words) -> Option<TxControl> {
    let i = skip_work_or_transaction(w, 1);
    if i >= w.len() || w.is(i, "AND") {
        Some(TxControl::Rollback)
    } else if w.is(i, "TO") {
        Some(TxControl::RollbackTo)
    } else {
        None
    }
}

pub(super) fn non_transactional_name(w: &Words) -> Option<String> {
    let first = w.which(
        0,
        &[
            "CREATE", "DROP", "ALTER", "REINDEX", "VACUUM", "CLUSTER", "DISCARD",
        ],
    )?;
    match first {
        "CREATE" => create_name(w),
        "DROP" => drop_name(w),
        "ALTER" => alter_name(w),
        "REINDEX" => reindex_name(w),
        "VACUUM" => Some("VACUUM".to_owned()),
        "CLUSTER" => cluster_name(w),
        "DISCARD" => w.is(1, "ALL").then(|| "DISCARD ALL".to_owned()),
        _ => None,
    }
}

pub(super) fn create_name(w: &Words) -> Option<String> {
    let index_at = if w.is(1, "UNIQUE") { 2 } else { 1 };
    if w.is(index_at, "INDEX") && w.is(index_at + 1, "CONCURRENTLY") {
        return Some("CREATE INDEX CONCURRENTLY".to_owned());
    }
    match w.which(1, &["DATABASE", "TABLESPACE", "SUBSCRIPTION"])? {
        "SUBSCRIPTION" if creates_no_slot(w) => None,
        object => Some(format!("CREATE {object}")),
    }
}

/// `CREATE SUBSCRIPTION ... WITH (create_slot = false)` or `(connect = false)` may run in a
/// transaction block.
pub(super) fn creates_no_slot(w: &Words) -> bool {
    w.option_is_false(w.all(), "create_slot") || w.option_is_false(w.all(), "connect")
}

pub(super) fn drop_name(w: &Words) -> Option<String> {
    if w.is(1, "INDEX") && w.is(2, "CONCURRENTLY") {
        return Some("DROP INDEX CONCURRENTLY".to_owned());
    }
    let object = w.which(1, &["DATABASE", "TABLESPACE", "SUBSCRIPTION"])?;
    Some(format!("DROP {object}"))
}

pub(super) fn alter_name(w: &Words) -> Option<String> {
    let name = match w.which(1, &["SYSTEM", "DATABASE", "SUBSCRIPTION", "TABLE"])? {
        "SYSTEM" => "ALTER SYSTEM",
        "DATABASE" if w.has_top_level(&["SET", "TABLESPACE"]) => {
            "ALTER DATABASE ... SET TABLESPACE"
        }
        "SUBSCRIPTION" => return alter_subscription_name(w),
        "TABLE"
            if w.has_top_level(&["DETACH", "PARTITION"]) && w.has_top_level(&["CONCURRENTLY"]) =>
        {
            "ALTER TABLE ... DETACH PARTITION CONCURRENTLY"
        }
        _ => return None,
    };
    Some(name.to_owned())
}

/// `REFRESH PUBLICATION` always; `SET/ADD/DROP PUBLICATION` unless `refresh = false`.
pub(super) fn alter_subscription_name(w: &Words) -> Option<String> {
    if w.has_top_level(&["REFRESH", "PUBLICATION"]) {
        return Some("ALTER SUBSCRIPTION ... REFRESH PUBLICATION".to_owned());
    }
    let action = ["SET", "ADD", "DROP"]
        .into_iter()
        .find(|action| w.has_top_level(&[action, "PUBLICATION"]))?;
    if w.option_is_false(w.all(), "refresh") {
        return None;
    }
    Some(format!("ALTER SUBSCRIPTION ... {action} PUBLICATION"))
}

/// `REINDEX [(options)] {INDEX|TABLE|SCHEMA|DATABASE|SYSTEM} [CONCURRENTLY] name`
pub(super) fn reindex_name(w: &Words) -> Option<String> {
    let kind_at = w.after_group(1);
    if let Some(kind) = w.which(kind_at, &["DATABASE", "SYSTEM", "SCHEMA"]) {
        return Some(format!("REINDEX {kind}"));
    }
    let concurrently =
        w.option_is_true(1..kind_at, "CONCURRENTLY") || w.is(kind_at + 1, "CONCURRENTLY");
    concurrently.then(|| "REINDEX CONCURRENTLY".to_owned())
}

/// `CLUSTER [VERBOSE]` or `CLUSTER (options)` without a table re-clusters the whole database.
pub(super) fn cluster_name(w: &Words) -> Option<String> {
    let mut i = w.after_group(1);
    if w.is(i, "VERBOSE") {
        i += 1;
    }
    (i >= w.len()).then(|| "CLUSTER".to_owned())
}

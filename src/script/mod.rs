//! Statement-level analysis of pgpm SQL scripts (PostgreSQL dialect).
//!
//! [`analyse`] takes the text of a deploy/revert/verify script and, without parsing SQL,
//! produces:
//!
//! * the statement boundaries (byte ranges plus 1-based line/column of each first token),
//!   split on top-level `;` only;
//! * a classification of every statement: transaction control (`BEGIN`, `COMMIT`,
//!   `SAVEPOINT`, ...), statements that PostgreSQL refuses to run inside a transaction block
//!   (`CREATE INDEX CONCURRENTLY`, `VACUUM`, ...), or anything else;
//! * whether the script opts out of jobsctl's transaction with a `-- jobsctl:no-transaction`
//!   line comment before its first statement;
//! * the text to execute ([`Script::executable_text`]): the script with its own transaction
//!   control blanked out, character for character, so PostgreSQL error positions still point
//!   at the right place in the file ([`Script::line_col`]).
//!
//! Scripts that cannot be sent to the server as they are are rejected: psql meta-commands
//! (`\set`, `\i`, `\gset`, ...), `COPY ... FROM STDIN` (jobsctl has no data to feed it) and
//! text that cannot be tokenized (an unterminated string, dollar quote, quoted identifier or
//! block comment).
//!
//! # Why the tokenizer and not the parser
//!
//! sqlparser's *parser* rejects valid PostgreSQL found in real pgpm packages (trigger
//! `EXECUTE PROCEDURE f('jobs:insert')`, `DO` blocks, `CREATE PROCEDURE ... AS $$...$$`), so it
//! must never decide whether a script is acceptable; the server does that. Splitting and
//! classification only need to know where strings, quoted identifiers, dollar quotes and
//! comments begin and end, which is exactly what [`sqlparser::tokenizer::Tokenizer`] with
//! [`PostgreSqlDialect`](sqlparser::dialect::PostgreSqlDialect) provides. This module never
//! calls the parser.
//!
//! # Positions
//!
//! * All positions refer to [`Script::text`], the input with a leading UTF-8 BOM removed.
//! * Byte ranges are half-open (`start..end`), on `char` boundaries.
//! * Lines and columns are 1-based; columns count characters (not bytes).
//! * Only `\n` ends a line. A CRLF pair is therefore one line break (the `\r` is the last
//!   character of its line, so it never shifts a column), and a lone `\r` is an ordinary
//!   character. This is also how the sqlparser tokenizer counts lines.
//! * PostgreSQL reports error positions as 1-based *character* offsets into the query text;
//!   [`Script::line_col`] maps them (probed: a syntax error after non-ASCII text is
//!   reported as a character offset, not a byte offset).
//!
//! # Statement splitting
//!
//! A statement ends at a `;` token outside strings, quoted identifiers, dollar-quoted bodies
//! and comments. `;;` produces no empty statement; a last statement without `;` still
//! counts. Like psql, a `;` inside parentheses does not end a statement (multi-action
//! `CREATE RULE ... DO (...; ...)`); an unbalanced `(` therefore runs to the end of the script,
//! where the server reports it. SQL-standard function bodies (`BEGIN ATOMIC ... END`) contain
//! `;` tokens too: after `BEGIN ATOMIC` the splitter counts `CASE`/`BEGIN ATOMIC` ... `END`
//! nesting and only splits again once the matching `END` has been seen.
//!
//! # Non-transactional statements
//!
//! Detected from the leading keywords (case-insensitive; quoted identifiers are never
//! keywords; leading comments are ignored):
//!
//! | statement | name reported |
//! |---|---|
//! | `CREATE [UNIQUE] INDEX CONCURRENTLY` | `CREATE INDEX CONCURRENTLY` |
//! | `DROP INDEX CONCURRENTLY` | `DROP INDEX CONCURRENTLY` |
//! | `REINDEX DATABASE/SYSTEM/SCHEMA ...` | `REINDEX DATABASE` (etc.) |
//! | `REINDEX [(CONCURRENTLY)] INDEX/TABLE [CONCURRENTLY] ...` | `REINDEX CONCURRENTLY` |
//! | `VACUUM ...` | `VACUUM` |
//! | `CLUSTER`, `CLUSTER VERBOSE`, `CLUSTER (...)` without a table | `CLUSTER` |
//! | `CREATE DATABASE`, `DROP DATABASE` | same |
//! | `CREATE TABLESPACE`, `DROP TABLESPACE` | same |
//! | `ALTER SYSTEM` | same |
//! | `ALTER DATABASE ... SET TABLESPACE` | `ALTER DATABASE ... SET TABLESPACE` |
//! | `ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY` | `ALTER TABLE ... DETACH PARTITION CONCURRENTLY` |
//! | `COMMIT PREPARED`, `ROLLBACK PREPARED` | same |
//! | `DISCARD ALL` | same |
//! | `CREATE SUBSCRIPTION`, unless `create_slot = false` or `connect = false` is given | `CREATE SUBSCRIPTION` |
//! | `DROP SUBSCRIPTION` (always: whether it has a slot is not visible in the text) | `DROP SUBSCRIPTION` |
//! | `ALTER SUBSCRIPTION ... REFRESH PUBLICATION` | `ALTER SUBSCRIPTION ... REFRESH PUBLICATION` |
//! | `ALTER SUBSCRIPTION ... SET/ADD/DROP PUBLICATION`, unless `refresh = false` | `ALTER SUBSCRIPTION ... SET PUBLICATION` (etc.) |
//!
//! # Work-arounds for sqlparser 0.64 tokenizer gaps
//!
//! The tokenizer mis-reads some valid PostgreSQL; this module corrects for what it knows:
//!
//! * **Operators swallow comment starts.** sqlparser extends an operator over every following
//!   operator character, so `a ||-- it's;` becomes the operator `||--`, and the `;` (and the
//!   `'`) inside the comment are then seen as code. `?-` followed by `-` has the same effect.
//!   PostgreSQL never lets `--` or `/*` be part of an operator. Any operator token whose text
//!   (plus the next character) contains `--` or `/*` is cut there, and tokenizing resumes at
//!   the comment.
//! * **`E'...'` strings with byte or surrogate escapes** (`E'\xc3\xa9'`, `E'\uD83D\uDE00'`)
//!   and **`U&'...'` strings with a `UESCAPE` clause** (`U&'\' UESCAPE '!'`) are rejected by
//!   the tokenizer's unescaping. When it fails on such a string, the string's end is found
//!   with PostgreSQL's own rules (backslash escapes in `E''`, doubled quotes in both) and
//!   tokenizing resumes after it; the server then judges the escapes.
//!
//! After a cut operator, only the text up to the next line break is tokenized again when
//! that is enough to get back in step with the first pass (it usually is), so the cost stays
//! linear in the script size.
//!
//! # Known gaps
//!
//! * `standard_conforming_strings = off` is not supported: in plain `'...'` strings a
//!   backslash is an ordinary character (the PostgreSQL default since 9.1).
//! * A dollar-quote tag starting with a digit (`$1abc$`) is read as a dollar quote, while
//!   PostgreSQL reads `$1` followed by `abc$`. Such tags are invalid in PostgreSQL anyway.
//! * Field selection written as `(expr)._field` is rejected by the tokenizer ("Unexpected
//!   character '_'"); write `(expr)."_field"`.
//! * `PREPARE TRANSACTION` is classified as [`StatementKind::Other`] although it ends the
//!   surrounding transaction; it has no sensible use in a migration script.
//! * `COPY ... TO STDOUT` is not flagged.
//!
//! # Files
//!
//! This file holds the public API and [`analyse`], which runs the steps in order:
//! `lex.rs` (tokens, with the work-arounds), `split.rs` (statement boundaries), `reject.rs`
//! (what cannot be sent), `directive.rs` (`-- jobsctl:no-transaction`), `classify.rs`
//! (statement kinds); `position.rs` keeps byte offsets, lines and columns in step;
//! `tests.rs` tests them all through the API.

mod classify;
mod directive;
mod lex;
mod position;
mod reject;
mod split;
#[cfg(test)]
mod tests;

use classify::classify;
use directive::declares_no_transaction;
use lex::lex;
use position::LineColCursor;
use reject::first_problem;
use split::split_statements;

/// How a statement interacts with transactions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum StatementKind {
    /// BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE [SAVEPOINT],
    /// ROLLBACK TO [SAVEPOINT], COMMIT AND CHAIN...
    TransactionControl(TxControl),
    /// Cannot run inside a transaction block; the String names it, e.g.
    /// "CREATE INDEX CONCURRENTLY".
    NonTransactional(String),
    Other,
}

/// The transaction-control statements a script may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxControl {
    /// `BEGIN [WORK | TRANSACTION] [modes]`, `START TRANSACTION`
    Begin,
    /// `COMMIT`/`END [WORK | TRANSACTION] [AND [NO] CHAIN]`
    Commit,
    /// `ROLLBACK`/`ABORT [WORK | TRANSACTION] [AND [NO] CHAIN]`
    Rollback,
    /// `SAVEPOINT name`
    Savepoint,
    /// `RELEASE [SAVEPOINT] name`
    Release,
    /// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`
    RollbackTo,
}

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    pub kind: StatementKind,
    /// Byte range (`start..end`, end exclusive) in [`Script::text`], covering the statement
    /// from its first token to its terminating `;` inclusive (or to its last token when there
    /// is no final `;`); leading comments/whitespace excluded.
    pub start: usize,
    pub end: usize,
    /// 1-based line and column (column counted in characters) of the first token.
    pub line: usize,
    pub column: usize,
}

/// An analysed script.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Script {
    /// The text with a leading UTF-8 BOM removed (CRLF kept as-is).
    pub text: String,
    pub had_bom: bool,
    pub statements: Vec<Statement>,
    /// True when the script declares `-- jobsctl:no-transaction` (a line comment, whitespace
    /// around the colon allowed, case-insensitive, optionally followed by whitespace and free
    /// text) before its first statement.
    pub declared_no_transaction: bool,
}

impl Script {
    /// The source text of `s` (empty if `s` does not belong to this script).
    pub fn statement_text(&self, s: &Statement) -> &str {
        self.text.get(s.start..s.end).unwrap_or("")
    }

    /// Whether the last statement the server will run (transaction control
    /// aside) ends with its `;`, so that text appended after the script is
    /// a statement of its own, and an error in the script is still reported
    /// inside it (an unterminated last statement would instead be reported
    /// "at or near" the appended text). True for a script without
    /// statements.
    pub fn ends_terminated(&self) -> bool {
        self.statements
            .iter()
            .rev()
            .find(|s| !matches!(s.kind, StatementKind::TransactionControl(_)))
            .is_none_or(|s| self.statement_text(s).trim_end().ends_with(';'))
    }

    /// First statement that cannot run in a transaction block, if any.
    pub fn first_non_transactional(&self) -> Option<&Statement> {
        self.statements
            .iter()
            .find(|s| matches!(s.kind, StatementKind::NonTransactional(_)))
    }

    /// The script's own transaction-control statements, in order.
    pub fn transaction_control(&self) -> impl Iterator<Item = &Statement> {
        self.statements
            .iter()
            .filter(|s| matches!(s.kind, StatementKind::TransactionControl(_)))
    }

    /// The text to execute: BOM removed and every TransactionControl statement replaced by
    /// spaces of the same CHARACTER count, newlines (`\n` and `\r`) preserved, so that a
    /// PostgreSQL error position (1-based character offset into the executed text) maps to
    /// the same line:column in the file.
    pub fn executable_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut copied_up_to = 0;
        for s in self.transaction_control() {
            out.push_str(self.text.get(copied_up_to..s.start).unwrap_or(""));
            out.extend(self.statement_text(s).chars().map(blank_out));
            copied_up_to = s.end;
        }
        out.push_str(self.text.get(copied_up_to..).unwrap_or(""));
        out
    }

    /// Maps PostgreSQL's 1-based character offset into `text` (or `executable_text`, same
    /// thing) to 1-based (line, column), columns counted in characters.
    ///
    /// Only `\n` ends a line: `\r\n` is one line break and a lone `\r` is an ordinary
    /// character. Offset 0 is treated as 1; offsets past the end clamp to one past the last
    /// character (PostgreSQL reports "syntax error at end of input" there).
    pub fn line_col(&self, char_offset: usize) -> (usize, usize) {
        let index = char_offset.saturating_sub(1);
        let byte = self
            .text
            .char_indices()
            .nth(index)
            .map_or(self.text.len(), |(b, _)| b);
        self.line_col_of_byte(byte)
    }

    /// Same as [`Script::line_col`] for a byte offset into `text`. Offsets inside a multibyte
    /// character count as that character; offsets past the end clamp to the end.
    pub fn line_col_of_byte(&self, byte_offset: usize) -> (usize, usize) {
        LineColCursor::new(&self.text).seek(byte_offset)
    }

    /// Maps a PostgreSQL error position reported for `s` sent on its own (the text
    /// [`Script::statement_text`] returns) to (line, column) in the file.
    pub fn line_col_in_statement(&self, s: &Statement, char_offset: usize) -> (usize, usize) {
        let chars_before = self.text.get(..s.start).map_or(0, |p| p.chars().count());
        self.line_col(chars_before + char_offset.max(1))
    }
}

/// Why a script cannot be sent to the server. `Display` gives the reason
/// alone; `position` says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// Unterminated quote, dollar quote, quoted identifier or block comment, etc.; the
    /// position is where the unterminated construct starts.
    #[error("{message}")]
    Tokenize {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "psql meta-command `{command}` is not supported; jobsctl sends scripts to the server, not to psql"
    )]
    MetaCommand {
        line: usize,
        column: usize,
        command: String,
    },
    /// `COPY ... FROM STDIN`: the data rows would have to come from the client.
    #[error(
        "`COPY ... FROM STDIN` is not supported; jobsctl sends the script as SQL and has no data to feed it (use INSERT, or COPY from a file on the server)"
    )]
    CopyFromStdin { line: usize, column: usize },
}

impl ScriptError {
    /// 1-based (line, column) of the problem in the BOM-less text.
    pub fn position(&self) -> (usize, usize) {
        match self {
            ScriptError::Tokenize { line, column, .. }
            | ScriptError::MetaCommand { line, column, .. }
            | ScriptError::CopyFromStdin { line, column } => (*line, *column),
        }
    }
}

/// Analyses a script: see the module documentation.
pub fn analyse(sql: &str) -> Result<Script, ScriptError> {
    let (text, had_bom) = strip_bom(sql);
    let lexed = lex(text);
    let raw = split_statements(&lexed.lexemes);
    if let Some(error) = first_problem(text, &lexed, &raw) {
        return Err(error);
    }
    let first_start = raw.first().map(|r| r.start);
    let declared_no_transaction = declares_no_transaction(&lexed.lexemes, first_start);
    let mut cursor = LineColCursor::new(text);
    let statements = raw
        .iter()
        .map(|r| {
            let (line, column) = cursor.seek(r.start);
            Statement {
                kind: classify(&r.words(&lexed.lexemes)),
                start: r.start,
                end: r.end,
                line,
                column,
            }
        })
        .collect();
    Ok(Script {
        text: text.to_owned(),
        had_bom,
        statements,
        declared_no_transaction,
    })
}

fn strip_bom(sql: &str) -> (&str, bool) {
    match sql.strip_prefix('\u{feff}') {
        Some(rest) => (rest, true),
        None => (sql, false),
    }
}

fn blank_out(c: char) -> char {
    if c == '\n' || c == '\r' { c } else { ' ' }
}

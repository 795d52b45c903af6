//! Rejections: the earliest reason not to send a script to the server (a psql meta-command,
//! `COPY ... FROM STDIN`, text that cannot be tokenized), as a [`ScriptError`].

use super::ScriptError;
use super::lex::{LexFailure, Lexed};
use super::position::LineColCursor;
use super::split::RawStatement;
use sqlparser::tokenizer::Token;

/// The earliest reason (by position) not to accept the script.
pub(super) fn first_problem(
    text: &str,
    lexed: &Lexed,
    raw: &[RawStatement],
) -> Option<ScriptError> {
    let meta = lexed
        .lexemes
        .iter()
        .find(|l| l.token == Token::Backslash)
        .map(|l| (l.start, meta_command_error(text, l.start)));
    let copy = raw
        .iter()
        .find(|r| r.words(&lexed.lexemes).is_copy_from_stdin())
        .map(|r| (r.start, copy_error(text, r.start)));
    let failure = lexed
        .failure
        .as_ref()
        .map(|f| (f.start, tokenize_error(text, f)));
    [meta, copy, failure]
        .into_iter()
        .flatten()
        .min_by_key(|(start, _)| *start)
        .map(|(_, error)| error)
}

pub(super) fn meta_command_error(text: &str, start: usize) -> ScriptError {
    let (line, column) = LineColCursor::new(text).seek(start);
    let command = text
        .get(start..)
        .unwrap_or("")
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(40)
        .collect();
    ScriptError::MetaCommand {
        line,
        column,
        command,
    }
}

pub(super) fn copy_error(text: &str, start: usize) -> ScriptError {
    let (line, column) = LineColCursor::new(text).seek(start);
    ScriptError::CopyFromStdin { line, column }
}

pub(super) fn tokenize_error(text: &str, failure: &LexFailure) -> ScriptError {
    let (line, column) = LineColCursor::new(text).seek(failure.start);
    ScriptError::Tokenize {
        line,
        column,
        message: failure.message.clone(),
    }
}

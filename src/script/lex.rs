//! Lexing: sqlparser's tokenizer plus the work-arounds for its gaps described in the module
//! docs of [`crate::script`] (operators that swallow comment starts, `E''`/`U&''` strings it
//! cannot unescape), and plain-words descriptions of text that cannot be tokenized.

use super::position::LineColCursor;
use std::collections::VecDeque;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, TokenizerError, Whitespace};

/// A token with its byte range in the analysed text.
#[derive(Debug)]
pub(super) struct Lexeme {
    pub(super) token: Token,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Where tokenizing stopped for good, and why (in plain words).
#[derive(Debug)]
pub(super) struct LexFailure {
    pub(super) start: usize,
    pub(super) message: String,
}

/// Every token up to the end of the text, or up to the construct that could not be tokenized.
#[derive(Debug)]
pub(super) struct Lexed {
    pub(super) lexemes: Vec<Lexeme>,
    pub(super) failure: Option<LexFailure>,
}

/// Tokens of one tokenizer pass that are not yet checked, and how that pass ended.
pub(super) struct Pass {
    pub(super) lexemes: VecDeque<Lexeme>,
    /// The error that stopped the pass, if any.
    pub(super) error: Option<TokenizerError>,
    /// Byte offset where the pass's tokens end (where the error, if any, occurred).
    pub(super) end: usize,
}

pub(super) fn lex(text: &str) -> Lexed {
    lex_with(text, retokenize_from_cut)
}

/// [`lex`] with the repair strategy for comment-swallowing operators as a parameter (tests
/// compare the fast strategy with re-tokenizing everything).
pub(super) fn lex_with(text: &str, retokenize: fn(&str, usize, &mut Pass)) -> Lexed {
    let mut lexemes = Vec::new();
    let mut pass = tokenize_range(text, 0, text.len());
    loop {
        while let Some(lexeme) = pass.lexemes.pop_front() {
            match swallowed_comment_cut(text, &lexeme) {
                Some(cut) => {
                    lexemes.push(operator_before(text, lexeme.start, cut));
                    retokenize(text, cut, &mut pass);
                }
                None => lexemes.push(lexeme),
            }
        }
        let Some(error) = pass.error.take() else {
            return Lexed {
                lexemes,
                failure: None,
            };
        };
        let rest = text.get(pass.end..).unwrap_or("");
        let Some((token, len)) = misread_string(rest) else {
            let failure = LexFailure {
                start: pass.end,
                message: describe_failure(rest, &error.message),
            };
            return Lexed {
                lexemes,
                failure: Some(failure),
            };
        };
        let resume_at = pass.end + len;
        lexemes.push(Lexeme {
            token,
            start: pass.end,
            end: resume_at,
        });
        pass = tokenize_range(text, resume_at, text.len());
    }
}

/// Runs the sqlparser tokenizer on `text[from..to]`, converting locations to byte offsets in
/// `text`. Tokens produced before an error are kept.
pub(super) fn tokenize_range(text: &str, from: usize, to: usize) -> Pass {
    let slice = text.get(from..to).unwrap_or("");
    let dialect = PostgreSqlDialect {};
    let mut buf = Vec::new();
    let result = Tokenizer::new(&dialect, slice)
        .with_unescape(false)
        .tokenize_with_location_into_buf(&mut buf);
    let mut cursor = LineColCursor::new(slice);
    let lexemes: VecDeque<Lexeme> = buf
        .into_iter()
        .map(|t| {
            let start = from + cursor.byte_of(t.span.start);
            let end = from + cursor.byte_of(t.span.end);
            Lexeme {
                token: t.token,
                start,
                end,
            }
        })
        .collect();
    let end = lexemes.iter().map(|l| l.end).max().unwrap_or(from);
    Pass {
        lexemes,
        error: result.err(),
        end,
    }
}

/// The part of a comment-swallowing operator that really is an operator.
pub(super) fn operator_before(text: &str, start: usize, cut: usize) -> Lexeme {
    let operator = text.get(start..cut).unwrap_or("");
    Lexeme {
        token: Token::CustomBinaryOperator(operator.to_owned()),
        start,
        end: cut,
    }
}

/// Replaces the pending tokens (which were produced by reading a comment as code) with a
/// correct tokenization from `cut`, where the comment starts.
///
/// Re-tokenizing everything after every such comment would be quadratic, so only the text up
/// to the next newline token of the old pass is re-tokenized. If that window tokenizes
/// without error, no string, quoted identifier, dollar quote or block comment crosses the
/// newline, so both tokenizations have a token boundary there and the old tokens from the
/// newline on are correct. Otherwise the whole rest is re-tokenized.
///
/// The tokenizer carries context across token boundaries in two places: `._` (a field access
/// after a word, an error otherwise) and `COPY ... FROM STDIN` data capture. The first is
/// checked; the second only matters for scripts that are rejected anyway.
pub(super) fn retokenize_from_cut(text: &str, cut: usize, pass: &mut Pass) {
    let newline = pass
        .lexemes
        .iter()
        .position(|l| l.start > cut && l.token == Token::Whitespace(Whitespace::Newline));
    if let Some(index) = newline.filter(|&i| !field_access_follows(text, pass, i)) {
        let resync_at = pass.lexemes[index].start;
        let window = tokenize_range(text, cut, resync_at);
        if window.error.is_none() {
            pass.lexemes.drain(..index);
            for lexeme in window.lexemes.into_iter().rev() {
                pass.lexemes.push_front(lexeme);
            }
            return;
        }
    }
    *pass = tokenize_range(text, cut, text.len());
}

pub(super) fn is_operator_char(c: char) -> bool {
    "+-*/<>=~!@#%^&|`?".contains(c)
}

/// Whether the first significant text after pending token `index` is `._`, which the
/// tokenizer reads differently depending on the token before it.
pub(super) fn field_access_follows(text: &str, pass: &Pass, index: usize) -> bool {
    let next_start = pass
        .lexemes
        .iter()
        .skip(index)
        .find(|l| !is_trivia(&l.token))
        .map_or(pass.end, |l| l.start);
    text.get(next_start..)
        .is_some_and(|rest| rest.starts_with("._"))
}

/// If `lexeme` is an operator that runs into a `--` or `/*` comment start, the byte offset
/// where the operator really ends.
pub(super) fn swallowed_comment_cut(text: &str, lexeme: &Lexeme) -> Option<usize> {
    let token_text = text.get(lexeme.start..lexeme.end)?;
    if token_text.is_empty() || !token_text.chars().all(is_operator_char) {
        return None;
    }
    let next_len = text
        .get(lexeme.end..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8);
    let window = text.get(lexeme.start..lexeme.end + next_len)?;
    let cut = [window.find("--"), window.find("/*")]
        .into_iter()
        .flatten()
        .min()?;
    (cut > 0 && cut < token_text.len()).then_some(lexeme.start + cut)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StringKind {
    /// `'...'`, `B'...'`, `X'...'`, `N'...'`
    Standard,
    /// `E'...'`: backslash escapes
    Escaped,
    /// `U&'...'`
    Unicode,
}

/// The kind of string literal `rest` starts with, and the byte offset of its opening quote.
pub(super) fn string_literal_at(rest: &str) -> Option<(StringKind, usize)> {
    let mut chars = rest.chars();
    let first = chars.next()?;
    let second = chars.next();
    let third = chars.next();
    match (first.to_ascii_uppercase(), second, third) {
        ('\'', _, _) => Some((StringKind::Standard, 0)),
        ('E', Some('\''), _) => Some((StringKind::Escaped, 1)),
        ('B' | 'X' | 'N', Some('\''), _) => Some((StringKind::Standard, 1)),
        ('U', Some('&'), Some('\'')) => Some((StringKind::Unicode, 2)),
        _ => None,
    }
}

/// Byte length of the string literal at the start of `rest`, by PostgreSQL's rules
/// (`standard_conforming_strings = on`), or None if it is not terminated.
pub(super) fn string_literal_len(rest: &str, kind: StringKind, quote_at: usize) -> Option<usize> {
    let body_start = quote_at + 1;
    let mut chars = rest.get(body_start..)?.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if kind == StringKind::Escaped => {
                chars.next();
            }
            '\'' if chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                chars.next();
            }
            '\'' => return Some(body_start + i + 1),
            _ => {}
        }
    }
    None
}

/// A valid `E''`/`U&''` string the tokenizer choked on: a token standing for it and its
/// byte length.
pub(super) fn misread_string(rest: &str) -> Option<(Token, usize)> {
    let (kind, quote_at) = string_literal_at(rest)?;
    if kind == StringKind::Standard {
        return None;
    }
    let len = string_literal_len(rest, kind, quote_at)?;
    let raw = rest.get(..len)?.to_owned();
    let token = match kind {
        StringKind::Unicode => Token::UnicodeStringLiteral(raw),
        _ => Token::EscapedStringLiteral(raw),
    };
    Some((token, len))
}

/// `$tag$` (possibly `$$`) if `rest` starts with a dollar-quote opener.
pub(super) fn dollar_quote_opener(rest: &str) -> Option<&str> {
    let after = rest.strip_prefix('$')?;
    let tag_len = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    after[tag_len..]
        .starts_with('$')
        .then(|| &rest[..tag_len + 2])
}

pub(super) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// A plain-words description of why tokenizing failed at the start of `rest`.
pub(super) fn describe_failure(rest: &str, tokenizer_message: &str) -> String {
    if rest.starts_with("/*") {
        return "unterminated block comment: `/*` has no matching `*/`".to_owned();
    }
    if let Some(opener) = dollar_quote_opener(rest) {
        return format!("unterminated dollar-quoted string: `{opener}` has no closing `{opener}`");
    }
    if let Some((kind, _)) = string_literal_at(rest) {
        let note = match kind {
            StringKind::Escaped => " (in an E'...' string, \\' does not end it)",
            _ => "",
        };
        return format!("unterminated string literal: no closing `'`{note}");
    }
    if rest.starts_with('"') || starts_with_ignore_case(rest, "U&\"") {
        return "unterminated quoted identifier: no closing `\"`".to_owned();
    }
    format!("cannot tokenize the script here: {tokenizer_message}")
}

pub(super) fn is_trivia(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

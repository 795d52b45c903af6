//! The `-- jobsctl:no-transaction` directive: a line comment before the first statement
//! that opts the script out of jobsctl's transaction.

use super::lex::{Lexeme, starts_with_ignore_case};
use sqlparser::tokenizer::{Token, Whitespace};

pub(super) fn declares_no_transaction(
    lexemes: &[Lexeme],
    first_statement_start: Option<usize>,
) -> bool {
    lexemes
        .iter()
        .take_while(|l| first_statement_start.is_none_or(|start| l.start < start))
        .any(|l| match &l.token {
            Token::Whitespace(Whitespace::SingleLineComment { prefix, comment }) => {
                prefix == "--" && is_no_transaction_directive(comment)
            }
            _ => false,
        })
}

/// `jobsctl : no-transaction [free text]`, case-insensitive.
pub(super) fn is_no_transaction_directive(comment: &str) -> bool {
    let rest = comment.trim_start();
    let Some(rest) = strip_prefix_ignore_case(rest, "jobsctl") else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix(':') else {
        return false;
    };
    let Some(rest) = strip_prefix_ignore_case(rest.trim_start(), "no-transaction") else {
        return false;
    };
    rest.chars().next().is_none_or(char::is_whitespace)
}

pub(super) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    starts_with_ignore_case(text, prefix).then(|| &text[prefix.len()..])
}

//! Statement splitting: a statement ends at a top-level `;` (not inside parentheses or a
//! `BEGIN ATOMIC ... END` body), as psql splits.

use super::classify::{Words, unquoted_word};
use super::lex::{Lexeme, is_trivia};
use sqlparser::tokenizer::Token;

/// A statement before classification: its byte range and its significant tokens (indices into
/// the lexemes, excluding the terminating `;`).
pub(super) struct RawStatement {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) significant: Vec<usize>,
}

impl RawStatement {
    pub(super) fn words<'a>(&self, lexemes: &'a [Lexeme]) -> Words<'a> {
        Words {
            tokens: self
                .significant
                .iter()
                .filter_map(|&i| lexemes.get(i).map(|l| &l.token))
                .collect(),
        }
    }
}

/// Tracks what a `;` can be nested in without ending the statement, the way psql does:
/// parentheses (`CREATE RULE ... DO ALSO (INSERT ...; INSERT ...)`) and SQL-standard function
/// bodies (`BEGIN ATOMIC ... END`, inside which `CASE ... END` nests).
#[derive(Default)]
pub(super) struct Nesting {
    pub(super) parens: usize,
    pub(super) atomic: usize,
    pub(super) previous_was_begin: bool,
}

impl Nesting {
    fn observe(&mut self, token: &Token) {
        let is =
            |keyword: &str| unquoted_word(token).is_some_and(|w| w.eq_ignore_ascii_case(keyword));
        match token {
            Token::LParen => self.parens += 1,
            Token::RParen => self.parens = self.parens.saturating_sub(1),
            _ => {}
        }
        let opens = (self.previous_was_begin && is("ATOMIC")) || (self.atomic > 0 && is("CASE"));
        if opens {
            self.atomic += 1;
        } else if self.atomic > 0 && is("END") {
            self.atomic -= 1;
        }
        self.previous_was_begin = is("BEGIN");
    }

    fn at_top_level(&self) -> bool {
        self.parens == 0 && self.atomic == 0
    }
}

pub(super) fn split_statements(lexemes: &[Lexeme]) -> Vec<RawStatement> {
    let mut statements = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut nesting = Nesting::default();
    for (i, lexeme) in lexemes.iter().enumerate() {
        if is_trivia(&lexeme.token) {
            continue;
        }
        nesting.observe(&lexeme.token);
        if lexeme.token == Token::SemiColon && nesting.at_top_level() {
            if let Some(&first) = current.first() {
                statements.push(RawStatement {
                    start: lexemes[first].start,
                    end: lexeme.end,
                    significant: std::mem::take(&mut current),
                });
            }
            continue;
        }
        current.push(i);
    }
    if let (Some(&first), Some(&last)) = (current.first(), current.last()) {
        statements.push(RawStatement {
            start: lexemes[first].start,
            end: lexemes[last].end,
            significant: current,
        });
    }
    statements
}

//! Positions in a script: byte offsets, 1-based lines and character columns kept in step
//! (lines end at `\n` only), and the tokenizer's [`Location`]s turned into byte offsets.

use sqlparser::tokenizer::Location;

/// Walks a text forward, keeping byte offset and 1-based line/column (in characters, lines
/// ended by `\n` only) in step. Seeking backwards restarts from the beginning, so seeking
/// through increasing positions costs O(text) in total.
pub(super) struct LineColCursor<'a> {
    pub(super) text: &'a str,
    pub(super) byte: usize,
    pub(super) line: usize,
    pub(super) column: usize,
}

impl<'a> LineColCursor<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        LineColCursor {
            text,
            byte: 0,
            line: 1,
            column: 1,
        }
    }

    fn restart(&mut self) {
        *self = LineColCursor::new(self.text);
    }

    /// Moves over one character; false at the end of the text.
    fn step(&mut self) -> bool {
        let Some(c) = self
            .text
            .get(self.byte..)
            .and_then(|rest| rest.chars().next())
        else {
            return false;
        };
        self.byte += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        true
    }

    /// (line, column) of the character containing `byte` (clamped to the end of the text).
    pub(super) fn seek(&mut self, byte: usize) -> (usize, usize) {
        let target = floor_char_boundary(self.text, byte);
        if target < self.byte {
            self.restart();
        }
        while self.byte < target && self.step() {}
        (self.line, self.column)
    }

    /// Byte offset of a tokenizer [`Location`] (1-based line and character column).
    pub(super) fn byte_of(&mut self, location: Location) -> usize {
        let target = (to_usize(location.line), to_usize(location.column));
        if target < (self.line, self.column) {
            self.restart();
        }
        while (self.line, self.column) < target && self.step() {}
        self.byte
    }
}

pub(super) fn floor_char_boundary(text: &str, byte: usize) -> usize {
    let mut b = byte.min(text.len());
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    b
}

pub(super) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

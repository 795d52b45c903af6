//! Words that agree with a count, for messages: `plural(2, "change")` is
//! "2 changes". It imports nothing of the crate, so that every module, the
//! engine's error messages as much as the output, can use it.

/// The count and its noun, plural unless the count is 1: "1 change",
/// "2 changes" (regular nouns only).
pub fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", plural_s(n))
}

/// The plural ending of a regular noun: "" for 1, else "s"; for a noun
/// that does not follow its count ("the control files").
pub fn plural_s(n: usize) -> &'static str {
    agree(n, "", "s")
}

/// `one` for a count of 1, else `many`: the verb or pronoun that agrees
/// with it ("differs"/"differ", "it"/"them").
pub fn agree(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(plural(0, "change"), "0 changes");
        assert_eq!(plural(1, "change"), "1 change");
        assert_eq!(plural(2, "verify script"), "2 verify scripts");
        assert_eq!(plural_s(1), "");
        assert_eq!(plural_s(3), "s");
        assert_eq!(agree(1, "it", "them"), "it");
        assert_eq!(agree(2, "it", "them"), "them");
    }
}

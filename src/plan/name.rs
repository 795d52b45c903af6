//! Name rules for changes, tags and projects (Sqitch's rules, as pgpm
//! applies them). Each check returns the reason a name is refused.

/// A change name: at least one character, no whitespace, none of `: @ # \`,
/// neither starting nor ending with punctuation other than `_`, and not
/// ending in `~N`, `^N`, `/N`, `=N` or `%N` (those read as relative
/// references).
pub fn validate_change_name(name: &str) -> Result<(), String> {
    validate_entry_name(name)
}

/// A tag name follows the change rules and may not contain `/`.
pub fn validate_tag_name(name: &str) -> Result<(), String> {
    validate_entry_name(name)?;
    if name.contains('/') {
        return Err("a tag name may not contain `/`".into());
    }
    Ok(())
}

/// A project name as pgpm accepts it in a `project:change` reference:
/// letters, digits, `-` and `_`.
pub fn validate_project_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the project name is empty".into());
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        Some(c) => Err(format!(
            "a project name may only contain letters, digits, `-` and `_` (found {})",
            describe_char(c)
        )),
        None => Ok(()),
    }
}

fn validate_entry_name(name: &str) -> Result<(), String> {
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else {
        return Err("the name is empty".into());
    };
    if let Some(c) = name.chars().find(|c| c.is_whitespace()) {
        return Err(format!(
            "a name may not contain whitespace ({})",
            describe_char(c)
        ));
    }
    if let Some(c) = name.chars().find(|c| matches!(c, ':' | '@' | '#' | '\\')) {
        return Err(format!("a name may not contain `{c}`"));
    }
    if is_punctuation(first) {
        return Err(format!(
            "a name may not start with `{first}` (punctuation other than `_`)"
        ));
    }
    if is_punctuation(last) {
        return Err(format!(
            "a name may not end with `{last}` (punctuation other than `_`)"
        ));
    }
    if let Some(suffix) = relative_suffix(name) {
        return Err(format!(
            "a name may not end with `{suffix}`: it reads as a relative reference"
        ));
    }
    Ok(())
}

/// ASCII punctuation except `_`.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() && c != '_'
}

/// `~N`, `^N`, `/N`, `=N` or `%N` at the end of a name.
fn relative_suffix(name: &str) -> Option<&str> {
    let digits_start = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits_start == name.len() || digits_start == 0 {
        return None;
    }
    let marker_start = digits_start - 1;
    matches!(
        name.as_bytes()[marker_start],
        b'~' | b'^' | b'/' | b'=' | b'%'
    )
    .then(|| &name[marker_start..])
}

fn describe_char(c: char) -> String {
    if c.is_whitespace() || c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_like_change_names_are_valid() {
        for name in [
            "schemas/app_jobs/schema",
            "schemas/app_jobs/tables/jobs/table",
            "_private",
            "trailing_",
            "v1.2",
            "über",
            "a-b",
            "x1",
            "123",
        ] {
            assert_eq!(validate_change_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn empty_name_is_refused() {
        assert!(validate_change_name("").unwrap_err().contains("empty"));
    }

    #[test]
    fn whitespace_is_refused() {
        assert!(validate_change_name("a\tb").unwrap_err().contains("U+0009"));
    }

    #[test]
    fn reserved_characters_are_refused_anywhere() {
        for (name, c) in [("a:b", ':'), ("a@b", '@'), ("a#b", '#'), ("a\\b", '\\')] {
            assert!(
                validate_change_name(name).unwrap_err().contains(c),
                "{name}"
            );
        }
    }

    #[test]
    fn leading_and_trailing_punctuation_is_refused() {
        assert!(validate_change_name("-a").unwrap_err().contains("start"));
        assert!(validate_change_name("a.").unwrap_err().contains("end"));
        assert!(validate_change_name("/a").unwrap_err().contains("start"));
    }

    #[test]
    fn relative_reference_suffixes_are_refused() {
        for name in ["a~1", "a^2", "a/3", "a=40", "a%5"] {
            assert!(
                validate_change_name(name).unwrap_err().contains("relative"),
                "{name}"
            );
        }
        assert_eq!(validate_change_name("a~b1"), Ok(()));
    }

    #[test]
    fn tags_may_not_contain_slash() {
        assert!(validate_tag_name("v1/beta").unwrap_err().contains('/'));
        assert_eq!(validate_tag_name("v1.0.0"), Ok(()));
    }

    #[test]
    fn project_names_are_identifier_like() {
        assert_eq!(validate_project_name("pgpm-jobs"), Ok(()));
        assert!(validate_project_name("a.b").is_err());
        assert!(validate_project_name("").is_err());
    }
}

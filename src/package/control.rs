//! `<name>.control`: the PostgreSQL extension control file pgpm packages
//! carry. jobsctl reads `requires` (packages and native extensions),
//! `default_version` and `comment`; other keys are kept as written.

use crate::plan::Diagnostic;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Control {
    pub comment: Option<String>,
    pub default_version: Option<String>,
    /// `requires`, split on commas; never contains an empty name.
    pub requires: Vec<String>,
    /// Every other `key = value`, in key order.
    pub other: BTreeMap<String, String>,
}

/// Parse a control file. Like PostgreSQL: `key = value` lines, values bare or
/// in single quotes (`''` is a quote), `#` starts a comment.
pub fn parse_control(text: &str) -> Result<Control, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut control = Control::default();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let result = parse_line(raw.trim()).and_then(|entry| match entry {
            None => Ok(()),
            Some((key, value)) => {
                if let Some(earlier) = seen.insert(key.clone(), line) {
                    return Err(format!("`{key}` is already set at line {earlier}"));
                }
                apply(&mut control, key, value)
            }
        });
        if let Err(message) = result {
            diagnostics.push(Diagnostic { line, message });
        }
    }
    if diagnostics.is_empty() {
        Ok(control)
    } else {
        Err(diagnostics)
    }
}

fn parse_line(line: &str) -> Result<Option<(String, String)>, String> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let Some((key, value)) = line.split_once('=') else {
        return Err(format!("expected `key = value`, found `{line}`"));
    };
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("invalid key `{key}`"));
    }
    Ok(Some((key.to_owned(), parse_value(value.trim())?)))
}

/// A bare value ends at whitespace or `#`; a quoted one at its closing quote.
fn parse_value(text: &str) -> Result<String, String> {
    let Some(quoted) = text.strip_prefix('\'') else {
        let bare = text
            .split(|c: char| c == '#' || c.is_whitespace())
            .next()
            .unwrap_or("");
        let rest = text[bare.len()..].trim_start();
        if !rest.is_empty() && !rest.starts_with('#') {
            return Err(format!(
                "unexpected `{rest}` after value `{bare}`: quote values that contain spaces"
            ));
        }
        return Ok(bare.to_owned());
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
        } else if chars.peek().is_some_and(|&(_, next)| next == '\'') {
            chars.next();
            value.push('\'');
        } else {
            let rest = quoted[i + 1..].trim_start();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(format!("unexpected `{rest}` after the quoted value"));
            }
            return Ok(value);
        }
    }
    Err("unterminated quoted value: add the closing `'`".into())
}

fn apply(control: &mut Control, key: String, value: String) -> Result<(), String> {
    match key.as_str() {
        "comment" => control.comment = Some(value),
        "default_version" => {
            if value.is_empty() {
                return Err("`default_version` is empty".into());
            }
            control.default_version = Some(value);
        }
        "requires" => control.requires = parse_requires(&value)?,
        _ => {
            control.other.insert(key, value);
        }
    }
    Ok(())
}

/// `'a, b,c'` → `[a, b, c]`; an empty value means no requirements. A name is
/// letters, digits and `_ - .`: anything else would be spliced into
/// `CREATE EXTENSION` or a registry lookup, so it is refused here.
fn parse_requires(value: &str) -> Result<Vec<String>, String> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = Vec::new();
    for (position, raw) in value.split(',').enumerate() {
        let name = raw.trim();
        if name.is_empty() {
            return Err(format!(
                "`requires` entry {} is empty: write names separated by single commas",
                position + 1
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(format!(
                "`requires` entry `{name}` contains `{c}`: names are letters, digits, `_`, `-` and `.`"
            ));
        }
        if names.iter().any(|n| n == name) {
            return Err(format!("`requires` lists `{name}` twice"));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> Vec<(usize, String)> {
        parse_control(text)
            .unwrap_err()
            .into_iter()
            .map(|d| (d.line, d.message))
            .collect()
    }

    #[test]
    fn reads_the_usual_keys() {
        let control = parse_control(
            "# pgpm-jobs extension\ncomment = 'the app_jobs job system'\ndefault_version = '0.1.0'\nmodule_pathname = '$libdir/pgpm-jobs'\nrequires = 'plpgsql, pgcrypto,pgpm-default-roles,pgpm-verify'\nrelocatable = false\nsuperuser = false\n",
        )
        .unwrap();
        assert_eq!(control.comment.as_deref(), Some("the app_jobs job system"));
        assert_eq!(control.default_version.as_deref(), Some("0.1.0"));
        assert_eq!(
            control.requires,
            ["plpgsql", "pgcrypto", "pgpm-default-roles", "pgpm-verify"]
        );
        assert_eq!(control.other["relocatable"], "false");
        assert_eq!(control.other["module_pathname"], "$libdir/pgpm-jobs");
    }

    #[test]
    fn empty_requires_means_none() {
        assert!(
            parse_control("requires = ''\n")
                .unwrap()
                .requires
                .is_empty()
        );
        assert!(
            parse_control("requires = '  '\n")
                .unwrap()
                .requires
                .is_empty()
        );
        assert!(
            parse_control("comment = 'x'\n")
                .unwrap()
                .requires
                .is_empty()
        );
    }

    #[test]
    fn empty_requires_entry_is_refused() {
        assert_eq!(messages("requires = 'plpgsql,,pgcrypto'")[0].0, 1);
        assert!(
            messages("requires = 'plpgsql,'")[0]
                .1
                .contains("entry 2 is empty")
        );
    }

    #[test]
    fn requires_entry_with_quotes_or_spaces_is_refused() {
        assert!(messages("requires = 'a b'")[0].1.contains("contains ` `"));
        assert!(
            messages("requires = 'x\"; DROP'")[0]
                .1
                .contains("contains `\"`")
        );
    }

    #[test]
    fn duplicate_requires_entry_is_refused() {
        assert!(messages("requires = 'a,a'")[0].1.contains("twice"));
    }

    #[test]
    fn quotes_double_up_and_comments_follow_values() {
        let control = parse_control(
            "comment = 'it''s # not a comment' # but this is\ndefault_version = 1.2 # bare\n",
        )
        .unwrap();
        assert_eq!(control.comment.as_deref(), Some("it's # not a comment"));
        assert_eq!(control.default_version.as_deref(), Some("1.2"));
    }

    #[test]
    fn crlf_and_bom_are_accepted() {
        let control = parse_control("\u{feff}comment = 'x'\r\nrequires = 'plpgsql'\r\n").unwrap();
        assert_eq!(control.requires, ["plpgsql"]);
    }

    #[test]
    fn every_malformed_line_is_reported() {
        let found = messages("comment 'x'\nrequires = 'a\n= 3\ncomment = 'y'\ncomment = 'z'\n");
        let lines: Vec<_> = found.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 2, 3, 5]);
        assert!(found[1].1.contains("unterminated"));
        assert!(found[3].1.contains("already set at line 4"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// No input makes the parser panic; every rejection names a line of the input.
        #[test]
        fn parser_never_panics(text in "(comment|requires|default_version|[a-z_]{0,6}| |=|'|''|,|#|\\n|\\r|\u{feff}|[a-z.-]{0,5}){0,40}") {
            if let Err(diagnostics) = parse_control(&text) {
                let lines = text.split('\n').count();
                for d in diagnostics {
                    proptest::prop_assert!(d.line >= 1 && d.line <= lines);
                }
            }
        }

        #[test]
        fn parser_never_panics_on_any_string(text in proptest::prelude::any::<String>()) {
            let _ = parse_control(&text);
        }
    }
}

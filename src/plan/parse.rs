//! The plan parser. It reads every line, keeps going after an error, and
//! returns either a plan or all the diagnostics of the file, sorted by line.

use super::name::{validate_change_name, validate_project_name, validate_tag_name};
use super::{Change, Dependency, Diagnostic, Plan, Planned, Pragma, Tag, Target, Timestamp};
use std::collections::HashMap;

/// The plan syntax version jobsctl reads and writes.
pub const SYNTAX_VERSION: &str = "1.0.0";

/// Parse a plan file's text. A leading UTF-8 BOM and CRLF line ends are
/// accepted.
pub fn parse(text: &str) -> Result<Plan, Vec<Diagnostic>> {
    let mut parser = Parser::default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.split('\n').enumerate() {
        parser.line(index + 1, raw.trim());
    }
    parser.finish()
}

#[derive(Default)]
struct Parser {
    plan: Plan,
    diagnostics: Vec<Diagnostic>,
}

type LineResult<T> = Result<T, String>;

impl Parser {
    fn line(&mut self, line: usize, text: &str) {
        if text.is_empty() || text.starts_with('#') {
            return;
        }
        let result = match text.as_bytes()[0] {
            b'%' => self.pragma(line, &text[1..]),
            b'@' => self.tag(line, &text[1..]),
            _ => self.change(line, text),
        };
        if let Err(message) = result {
            self.error(line, message);
        }
    }

    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            line,
            message: message.into(),
        });
    }

    fn pragma(&mut self, line: usize, text: &str) -> LineResult<()> {
        let (name, value) = match text.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().to_owned())),
            None => (text.trim(), None),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "malformed pragma `%{text}`: expected `%name=value`"
            ));
        }
        if !self.plan.changes.is_empty() {
            return Err(format!(
                "pragma `%{name}` must come before the first change"
            ));
        }
        if let Some(earlier) = self.plan.pragmas.iter().find(|p| p.name == name) {
            return Err(format!(
                "pragma `%{name}` is already set at line {}",
                earlier.line
            ));
        }
        match (name, value.as_deref()) {
            ("syntax-version", Some(SYNTAX_VERSION)) => {}
            ("syntax-version", v) => {
                return Err(format!(
                    "unsupported `%syntax-version={}`: jobsctl reads version {SYNTAX_VERSION}",
                    v.unwrap_or_default()
                ));
            }
            ("project", Some(project)) => validate_project_name(project)
                .map_err(|why| format!("invalid `%project={project}`: {why}"))?,
            ("project", None) => return Err("`%project` needs a value: `%project=<name>`".into()),
            _ => {}
        }
        self.plan.pragmas.push(Pragma {
            name: name.to_owned(),
            value,
            line,
        });
        Ok(())
    }

    fn change(&mut self, line: usize, text: &str) -> LineResult<()> {
        let (name, rest) = split_token(text);
        if let Some(bracket) = name.find('[') {
            return Err(format!(
                "`{}`: the dependency list must be separated from the change name by whitespace",
                &name[..bracket]
            ));
        }
        validate_change_name(name).map_err(|why| format!("invalid change name `{name}`: {why}"))?;
        let (dependencies, rest) = dependency_list(rest)?;
        let (planned, note) = if rest.is_empty() {
            (None, None)
        } else {
            let (planned, note) = planned_tail(rest)?;
            (Some(planned), note)
        };
        self.plan.changes.push(Change {
            name: name.to_owned(),
            dependencies,
            planned,
            note,
            tags: Vec::new(),
            line,
        });
        Ok(())
    }

    fn tag(&mut self, line: usize, text: &str) -> LineResult<()> {
        let (name, rest) = split_token(text);
        validate_tag_name(name).map_err(|why| format!("invalid tag name `@{name}`: {why}"))?;
        let Some(previous) = self.plan.changes.last_mut() else {
            return Err(format!(
                "tag `@{name}` comes before any change: a tag marks the change above it"
            ));
        };
        // pgpm also accepts `@tag change timestamp ...`; jobsctl takes it when
        // it names the change the tag is attached to anyway.
        let (first, after_first) = split_token(rest);
        let rest = if !first.is_empty()
            && Timestamp::parse(first).is_none()
            && looks_like_timestamp(split_token(after_first).0)
        {
            if first != previous.name {
                return Err(format!(
                    "tag `@{name}` names change `{first}`, but a tag marks the change above it (`{}`, line {}): move the tag line below `{first}`",
                    previous.name, previous.line
                ));
            }
            after_first
        } else {
            rest
        };
        if rest.is_empty() {
            return Err(format!(
                "tag `@{name}` needs a timestamp, a planner and an email: `@{name} 2025-01-31T12:00:00Z name <email>`"
            ));
        }
        let (planned, note) = planned_tail(rest)?;
        if planned.planner.is_none() || planned.email.is_none() {
            return Err(format!(
                "tag `@{name}` needs a planner and an email after its timestamp: `name <email>`"
            ));
        }
        previous.tags.push(Tag {
            name: name.to_owned(),
            planned,
            note,
            line,
        });
        Ok(())
    }

    fn finish(mut self) -> Result<Plan, Vec<Diagnostic>> {
        if self.plan.pragma("project").is_none()
            && !self
                .diagnostics
                .iter()
                .any(|d| d.message.contains("%project"))
        {
            self.error(
                1,
                "missing `%project=<name>` pragma: it names the package in the registry",
            );
        }
        let semantic = semantic_checks(&self.plan);
        self.diagnostics.extend(semantic);
        if self.diagnostics.is_empty() {
            Ok(self.plan)
        } else {
            self.diagnostics.sort_by_key(|d| d.line);
            Err(self.diagnostics)
        }
    }
}

/// Split off the first whitespace-delimited token; the rest is trimmed.
fn split_token(text: &str) -> (&str, &str) {
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim_start()),
        None => (text, ""),
    }
}

fn looks_like_timestamp(token: &str) -> bool {
    token.len() == 20 && token.as_bytes()[4] == b'-' && token.ends_with('Z')
}

/// `[dep dep ...]` at the start of `text`, if any; returns the rest.
fn dependency_list(text: &str) -> LineResult<(Vec<Dependency>, &str)> {
    let Some(inner_start) = text.strip_prefix('[') else {
        return Ok((Vec::new(), text));
    };
    let Some(close) = inner_start.find(']') else {
        return Err("unclosed `[`: the dependency list must end with `]`".into());
    };
    let (inner, after) = (&inner_start[..close], &inner_start[close + 1..]);
    if !after.is_empty() && !after.starts_with(char::is_whitespace) {
        return Err(format!(
            "expected whitespace after `]`, found `{}`",
            split_token(after).0
        ));
    }
    let mut dependencies: Vec<Dependency> = Vec::new();
    for token in inner.split_whitespace() {
        let dependency = parse_dependency(token)?;
        // pgpm records a dependency once however often it is listed.
        if !dependencies.contains(&dependency) {
            dependencies.push(dependency);
        }
    }
    Ok((dependencies, after.trim_start()))
}

/// One dependency reference: `change`, `project:change`, `@tag` or
/// `project:@tag`. Everything else pgpm or Sqitch may accept is refused with
/// the reason.
pub fn parse_dependency(token: &str) -> LineResult<Dependency> {
    if let Some(conflict) = token.strip_prefix('!') {
        return Err(format!(
            "conflict `{token}` is not supported (pgpm rejects conflicts): revert `{conflict}` in a change of its own instead"
        ));
    }
    let (project, reference) = match token.split_once(':') {
        Some((project, reference)) => {
            validate_project_name(project)
                .map_err(|why| format!("invalid dependency `{token}`: {why}"))?;
            (Some(project.to_owned()), reference)
        }
        None => (None, token),
    };
    if is_symbolic_or_relative(reference) {
        return Err(format!(
            "dependency `{token}`: symbolic and relative references (HEAD, ROOT, `x^`, `x~2`) are not supported; name the change"
        ));
    }
    let target = if let Some(tag) = reference.strip_prefix('@') {
        validate_tag_name(tag).map_err(|why| format!("invalid dependency `{token}`: {why}"))?;
        Target::Tag(tag.to_owned())
    } else if let Some((change, tag)) = reference.split_once('@') {
        return Err(format!(
            "dependency `{token}` names change `{change}` as of tag `@{tag}`, a reworked change, which jobsctl does not support: depend on `{change}` or `@{tag}`"
        ));
    } else {
        validate_change_name(reference)
            .map_err(|why| format!("invalid dependency `{token}`: {why}"))?;
        Target::Change(reference.to_owned())
    };
    Ok(Dependency { project, target })
}

fn is_symbolic_or_relative(reference: &str) -> bool {
    let bare = reference.strip_prefix('@').unwrap_or(reference);
    if bare == "HEAD" || bare == "ROOT" {
        return true;
    }
    let without_digits = bare.trim_end_matches(|c: char| c.is_ascii_digit());
    without_digits.len() > 1 && (without_digits.ends_with('^') || without_digits.ends_with('~'))
}

/// `TIMESTAMP [planner] [<email>] [# note]`.
fn planned_tail(text: &str) -> LineResult<(Planned, Option<String>)> {
    let (token, rest) = split_token(text);
    if token.starts_with('#') {
        return Err("a note needs a timestamp before it: `name 2025-01-31T12:00:00Z planner <email> # note`".into());
    }
    let timestamp = Timestamp::parse(token).ok_or_else(|| {
        if looks_like_timestamp(token) {
            format!("invalid timestamp `{token}`: no such date or time")
        } else {
            format!("expected a UTC timestamp like `2025-01-31T12:00:00Z`, found `{token}`")
        }
    })?;
    let (head, note) = split_note(rest);
    let (planner, email) = planner_and_email(head)?;
    Ok((
        Planned {
            timestamp,
            planner,
            email,
        },
        note,
    ))
}

/// Split `planner <email> # note` at the first `#` that stands alone
/// (whitespace or line edge on both sides) outside the email.
fn split_note(text: &str) -> (&str, Option<String>) {
    let bytes = text.as_bytes();
    let mut in_email = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => in_email = true,
            b'>' => in_email = false,
            b'#' if !in_email => {
                let before_ok = i == 0 || bytes[i - 1].is_ascii_whitespace();
                let after_ok = i + 1 == bytes.len() || bytes[i + 1].is_ascii_whitespace();
                if before_ok && after_ok {
                    let note = text[i + 1..].trim();
                    return (
                        text[..i].trim_end(),
                        (!note.is_empty()).then(|| note.to_owned()),
                    );
                }
            }
            _ => {}
        }
    }
    (text, None)
}

fn planner_and_email(text: &str) -> LineResult<(Option<String>, Option<String>)> {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let Some(open) = text.find('<') else {
        if text.contains('>') {
            return Err(format!(
                "stray `>` in planner `{text}`: write the email as `<email>`"
            ));
        }
        return Ok((non_empty(text), None));
    };
    let Some(close) = text[open..].find('>').map(|i| open + i) else {
        return Err(format!(
            "unclosed `<` in `{text}`: write the email as `<email>`"
        ));
    };
    let email = text[open + 1..close].trim();
    if email.is_empty() {
        return Err("the planner's email between `<` and `>` is empty".into());
    }
    let after = text[close + 1..].trim();
    if !after.is_empty() {
        return Err(format!(
            "unexpected `{after}` after the email; a note needs ` # ` before it"
        ));
    }
    Ok((non_empty(text[..open].trim()), Some(email.to_owned())))
}

/// Checks on the plan as a whole: duplicates, and local dependencies that do
/// not exist or come later in the plan.
fn semantic_checks(plan: &Plan) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut change_index: HashMap<&str, usize> = HashMap::new();
    let mut tag_index: HashMap<&str, (usize, usize)> = HashMap::new();
    for (index, change) in plan.changes.iter().enumerate() {
        if let Some(&earlier) = change_index.get(change.name.as_str()) {
            diagnostics.push(Diagnostic {
                line: change.line,
                message: format!(
                    "change `{}` is already planned at line {}; reworked changes are not supported: give the new version its own name",
                    change.name, plan.changes[earlier].line
                ),
            });
        } else {
            change_index.insert(&change.name, index);
        }
        for tag in &change.tags {
            if let Some(&(_, line)) = tag_index.get(tag.name.as_str()) {
                diagnostics.push(Diagnostic {
                    line: tag.line,
                    message: format!("tag `@{}` is already planned at line {line}", tag.name),
                });
            } else {
                tag_index.insert(&tag.name, (index, tag.line));
            }
        }
    }
    let project = plan.project();
    for (index, change) in plan.changes.iter().enumerate() {
        for dependency in change.dependencies.iter().filter(|d| d.is_local(project)) {
            let problem = match &dependency.target {
                Target::Change(name) => match change_index.get(name.as_str()) {
                    None => Some(format!(
                        "change `{}` requires `{dependency}`, which is not in this plan",
                        change.name
                    )),
                    Some(&at) if at == index => {
                        Some(format!("change `{}` requires itself", change.name))
                    }
                    Some(&at) if at > index => {
                        Some(later_message(plan, change, dependency, at, index))
                    }
                    Some(_) => None,
                },
                Target::Tag(name) => match tag_index.get(name.as_str()) {
                    None => Some(format!(
                        "change `{}` requires `{dependency}`, but no such tag is in this plan",
                        change.name
                    )),
                    Some(&(at, _)) if at >= index => Some(format!(
                        "change `{}` requires `{dependency}`, which marks change `{}` (line {}), not an earlier one: move this change below that tag",
                        change.name, plan.changes[at].name, plan.changes[at].line
                    )),
                    Some(_) => None,
                },
            };
            if let Some(message) = problem {
                diagnostics.push(Diagnostic {
                    line: change.line,
                    message,
                });
            }
        }
    }
    diagnostics
}

fn later_message(
    plan: &Plan,
    change: &Change,
    dependency: &Dependency,
    at: usize,
    index: usize,
) -> String {
    let required = &plan.changes[at];
    let distance = at - index;
    format!(
        "change `{}` requires `{dependency}`, which is planned later (line {}): move this change at least {} down, below line {}, or move `{}` above line {}",
        change.name,
        required.line,
        crate::text::plural(distance, "change"),
        required.line,
        required.name,
        change.line
    )
}

#[cfg(test)]
mod tests;

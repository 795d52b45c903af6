//! The `pgpm.plan` file: its data model, a parser that reports every error of
//! a file, semantic checks pgpm itself lacks, and a writer that round-trips.
//!
//! Everything here is pure: text in, values or diagnostics out. Paths are
//! added by the caller (see `package`).

mod name;
mod parse;
mod write;

pub use name::{validate_change_name, validate_project_name, validate_tag_name};
pub use parse::{parse, parse_dependency};
pub use write::{write, write_change_line, write_tag_line};

use serde::Serialize;
use std::fmt;

/// A parsed plan: pragmas in file order, then changes in plan order, each
/// with the tags attached to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub pragmas: Vec<Pragma>,
    pub changes: Vec<Change>,
}

impl Plan {
    /// The value of a pragma, e.g. `project`.
    pub fn pragma(&self, name: &str) -> Option<&str> {
        self.pragmas
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.as_deref())
    }

    /// `%project`: names the package in the registry. Required by the parser.
    pub fn project(&self) -> &str {
        self.pragma("project").unwrap_or_default()
    }

    pub fn uri(&self) -> Option<&str> {
        self.pragma("uri")
    }

    pub fn change(&self, name: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.name == name)
    }

    /// The change a tag is attached to.
    pub fn change_for_tag(&self, tag: &str) -> Option<&Change> {
        self.changes
            .iter()
            .find(|c| c.tags.iter().any(|t| t.name == tag))
    }
}

/// `%name=value` (or a bare `%name`). Unknown pragmas are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pragma {
    pub name: String,
    pub value: Option<String>,
    #[serde(skip)]
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub name: String,
    pub dependencies: Vec<Dependency>,
    pub planned: Option<Planned>,
    pub note: Option<String>,
    pub tags: Vec<Tag>,
    /// 1-based line in the plan file (0 for changes built in code).
    #[serde(skip)]
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub name: String,
    pub planned: Planned,
    pub note: Option<String>,
    #[serde(skip)]
    pub line: usize,
}

/// When and by whom an entry was planned. pgpm allows a change line to stop
/// after the timestamp, and the planner or the email to be absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub timestamp: Timestamp,
    pub planner: Option<String>,
    pub email: Option<String>,
}

/// A UTC timestamp as written in plans: `YYYY-MM-DDTHH:MM:SSZ`, checked to be
/// a real calendar instant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 20
            && b.iter().enumerate().all(|(i, &c)| match i {
                4 | 7 => c == b'-',
                10 => c == b'T',
                13 | 16 => c == b':',
                19 => c == b'Z',
                _ => c.is_ascii_digit(),
            });
        if !shape_ok {
            return None;
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        let valid = (1..=days_in_month).contains(&day) && hour < 24 && minute < 60 && second < 60;
        valid.then(|| Timestamp(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A dependency as written in a plan: `change`, `project:change`, `@tag` or
/// `project:@tag`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Dependency {
    pub project: Option<String>,
    pub target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Change(String),
    Tag(String),
}

impl Dependency {
    /// The project this dependency lives in, given the plan's own project.
    pub fn project_or<'a>(&'a self, own: &'a str) -> &'a str {
        self.project.as_deref().unwrap_or(own)
    }

    /// True when the dependency points into the plan's own project.
    pub fn is_local(&self, own: &str) -> bool {
        self.project.as_deref().is_none_or(|p| p == own)
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(project) = &self.project {
            write!(f, "{project}:")?;
        }
        match &self.target {
            Target::Change(name) => f.write_str(name),
            Target::Tag(name) => write!(f, "@{name}"),
        }
    }
}

/// One problem found in a plan, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

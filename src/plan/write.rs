//! The plan writer: pragmas, a blank line, then one line per change and tag,
//! in the layout pgpm writes. `parse(write(plan))` gives `plan` back.

use super::{Change, Plan, Planned, Tag};
use std::fmt::Write as _;

pub fn write(plan: &Plan) -> String {
    let mut out = String::new();
    for pragma in &plan.pragmas {
        match &pragma.value {
            Some(value) => writeln!(out, "%{}={value}", pragma.name),
            None => writeln!(out, "%{}", pragma.name),
        }
        .expect("writing to a String cannot fail");
    }
    if !plan.pragmas.is_empty() {
        out.push('\n');
    }
    for change in &plan.changes {
        out.push_str(&write_change_line(change));
        out.push('\n');
        for tag in &change.tags {
            out.push_str(&write_tag_line(tag));
            out.push('\n');
        }
    }
    out
}

/// `name [deps] timestamp planner <email> # note`, optional parts left out.
pub fn write_change_line(change: &Change) -> String {
    let mut line = change.name.clone();
    if !change.dependencies.is_empty() {
        let deps: Vec<String> = change
            .dependencies
            .iter()
            .map(ToString::to_string)
            .collect();
        write!(line, " [{}]", deps.join(" ")).expect("writing to a String cannot fail");
    }
    if let Some(planned) = &change.planned {
        push_planned(&mut line, planned);
        push_note(&mut line, change.note.as_deref());
    }
    line
}

/// `@name timestamp planner <email> # note`.
pub fn write_tag_line(tag: &Tag) -> String {
    let mut line = format!("@{}", tag.name);
    push_planned(&mut line, &tag.planned);
    push_note(&mut line, tag.note.as_deref());
    line
}

fn push_planned(line: &mut String, planned: &Planned) {
    line.push(' ');
    line.push_str(planned.timestamp.as_str());
    if let Some(planner) = &planned.planner {
        line.push(' ');
        line.push_str(planner);
    }
    if let Some(email) = &planned.email {
        write!(line, " <{email}>").expect("writing to a String cannot fail");
    }
}

fn push_note(line: &mut String, note: Option<&str>) {
    if let Some(note) = note.filter(|n| !n.is_empty()) {
        line.push_str(" # ");
        line.push_str(note);
    }
}

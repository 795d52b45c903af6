//! Who plans a change or tag, and when: the `timestamp planner <email>` part
//! of a plan line written by `add` and `tag`.
//!
//! The planner's name and email are each taken from the first of:
//!
//! 1. `JOBSCTL_PLANNER_NAME` / `JOBSCTL_PLANNER_EMAIL` (an explicit choice
//!    for this run beats ambient configuration, as `GIT_AUTHOR_NAME` beats
//!    `user.name` in Git);
//! 2. `git config user.name` / `git config user.email`, run in the package
//!    folder (so a repository's own identity counts);
//! 3. the system user: `$USER`, `$LOGNAME` or the password database for the
//!    name, and `<that user>@<hostname>` for the email.
//!
//! The timestamp is the current time in UTC, to the second.

use super::Error;
use crate::plan::Timestamp;
use serde::Serialize;
use std::path::Path;
use std::process::Command;

/// A planner as written in plans: `name <email>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planner {
    pub name: String,
    pub email: String,
    /// Where the name and the email came from, for messages.
    pub name_from: String,
    pub email_from: String,
}

/// Resolve the planner for a plan in `dir` (see the module docs).
pub fn resolve_planner(dir: &Path) -> Result<Planner, Error> {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (name, name_from) = if let Some(name) = env("JOBSCTL_PLANNER_NAME") {
        (name, "JOBSCTL_PLANNER_NAME".to_owned())
    } else if let Some(name) = git_config(dir, "user.name") {
        (name, "git config user.name".to_owned())
    } else if let Some((user, from)) = system_user() {
        (user, from)
    } else {
        return Err(Error::Usage(
            "cannot tell who plans this: set JOBSCTL_PLANNER_NAME (or git config user.name)".into(),
        ));
    };
    let (email, email_from) = if let Some(email) = env("JOBSCTL_PLANNER_EMAIL") {
        (email, "JOBSCTL_PLANNER_EMAIL".to_owned())
    } else if let Some(email) = git_config(dir, "user.email") {
        (email, "git config user.email".to_owned())
    } else {
        let user = system_user().map(|(u, _)| u).ok_or_else(|| {
            Error::Usage(
                "cannot tell the planner's email: set JOBSCTL_PLANNER_EMAIL (or git config user.email)"
                    .into(),
            )
        })?;
        (
            format!("{user}@{}", hostname()),
            "the system user and host name".to_owned(),
        )
    };
    let planner = Planner {
        name,
        email,
        name_from,
        email_from,
    };
    planner.check()?;
    Ok(planner)
}

impl Planner {
    /// A planner name and email must read back as the same planner: no
    /// `<`, `>` or `#` in the name, no whitespace or `<>` in the email.
    fn check(&self) -> Result<(), Error> {
        if let Some(c) = self
            .name
            .chars()
            .find(|c| matches!(c, '<' | '>' | '#') || c.is_control())
        {
            return Err(Error::Usage(format!(
                "planner name `{}` (from {}) contains {}, which a plan line cannot carry in a name",
                self.name,
                self.name_from,
                describe(c)
            )));
        }
        if let Some(c) = self
            .email
            .chars()
            .find(|c| matches!(c, '<' | '>') || c.is_whitespace() || c.is_control())
        {
            return Err(Error::Usage(format!(
                "planner email `{}` (from {}) contains {}, which a plan line cannot carry in an email",
                self.email,
                self.email_from,
                describe(c)
            )));
        }
        Ok(())
    }
}

fn describe(c: char) -> String {
    if c.is_whitespace() || c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

/// `git config --get <key>` in `dir`; `None` when Git is missing, the key
/// is unset or Git fails.
fn git_config(dir: &Path, key: &str) -> Option<String> {
    let output = Command::new("git")
        .args(["config", "--get", key])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let value = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

/// The operating-system user name and where it came from.
fn system_user() -> Option<(String, String)> {
    for variable in ["USER", "LOGNAME"] {
        if let Ok(user) = std::env::var(variable) {
            let user = user.trim();
            if !user.is_empty() {
                return Some((user.to_owned(), format!("${variable}")));
            }
        }
    }
    passwd_name().map(|name| (name, "the password database".to_owned()))
}

fn passwd_name() -> Option<String> {
    let mut buffer = vec![0 as libc::c_char; 4096];
    // SAFETY: `passwd` is plain old data; getpwuid_r fills it and points its
    // strings into `buffer`, which outlives every use below.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name is a NUL-terminated string inside `buffer`.
    let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
    let name = name.to_str().ok()?.trim().to_owned();
    (!name.is_empty()).then_some(name)
}

fn hostname() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most `buffer.len()` bytes into it.
    let rc = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if rc == 0 {
        let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
        if let Ok(name) = std::str::from_utf8(&buffer[..end]) {
            let name = name.trim();
            if !name.is_empty() {
                return name.to_owned();
            }
        }
    }
    "localhost".to_owned()
}

/// The current time as a plan timestamp (`YYYY-MM-DDTHH:MM:SSZ`, UTC).
pub fn now() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    timestamp_at(seconds)
}

/// The plan timestamp of a moment given in seconds since the Unix epoch.
pub fn timestamp_at(unix_seconds: u64) -> Timestamp {
    let days = (unix_seconds / 86_400) as i64;
    let second_of_day = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    Timestamp::parse(&text).expect("a formatted UTC time is a valid plan timestamp")
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_instants() {
        assert_eq!(timestamp_at(0).as_str(), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp_at(951_782_400).as_str(), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp_at(1_756_252_664).as_str(), "2025-08-26T23:57:44Z");
        assert_eq!(timestamp_at(4_102_444_799).as_str(), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn planner_names_that_would_break_the_line_are_refused() {
        let planner = |name: &str, email: &str| Planner {
            name: name.into(),
            email: email.into(),
            name_from: "test".into(),
            email_from: "test".into(),
        };
        assert!(planner("Jane Doe", "jane@example.com").check().is_ok());
        assert!(planner("Jane <x>", "jane@example.com").check().is_err());
        assert!(planner("Jane # 1", "jane@example.com").check().is_err());
        assert!(planner("Jane", "jane doe@example.com").check().is_err());
        assert!(planner("Jane", "jane>@example.com").check().is_err());
    }
}

//! Who runs the server. PostgreSQL refuses to run as root, so when jobsctl
//! runs as root the server's programs (`initdb`, `pg_ctl`, `postgres`) run
//! as the `postgres` user: the child process drops its privileges
//! (`setgroups`, `setgid`, `setuid`) before it executes the program, and
//! the cluster's folders are given to that user.

use super::DevError;
use std::ffi::{CStr, CString};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// The account the server's programs run as when jobsctl runs as root.
pub const SERVER_USER: &str = "postgres";

/// An operating system account to switch to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `None` when the server runs as the current user; the `postgres`
/// account when jobsctl runs as root.
pub fn server_account() -> Result<Option<Account>, DevError> {
    if !is_root() {
        return Ok(None);
    }
    lookup(SERVER_USER).map(Some).ok_or_else(|| {
        DevError::Setup(format!(
            "jobsctl runs as root, PostgreSQL refuses to, and there is no `{SERVER_USER}` user to run \
             it as: create one (`useradd --system --user-group {SERVER_USER}`; installing Debian's \
             postgresql package does) or run jobsctl as another user"
        ))
    })
}

/// The account called `name`, from the password database.
pub fn lookup(name: &str) -> Option<Account> {
    let c_name = CString::new(name).ok()?;
    let mut buffer = vec![0 as libc::c_char; 1024];
    loop {
        // SAFETY: getpwnam_r writes only into `entry` and `buffer` (whose
        // length we pass) and sets `result` to null or to `&entry`; the
        // name it points to lives in `buffer`, which outlives its use.
        unsafe {
            let mut entry: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwnam_r(
                c_name.as_ptr(),
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut result,
            );
            if rc == libc::ERANGE && buffer.len() < 1 << 20 {
                buffer.resize(buffer.len() * 4, 0);
                continue;
            }
            if rc != 0 || result.is_null() {
                return None;
            }
            let name = CStr::from_ptr(entry.pw_name).to_string_lossy().into_owned();
            return Some(Account {
                name,
                uid: entry.pw_uid,
                gid: entry.pw_gid,
            });
        }
    }
}

/// `program` as a command that runs as `account` (or as ourselves), with
/// no `PG*` variable of ours leaking into the server's programs (`PGPORT`,
/// `PGDATA` and friends change what they do).
pub fn command(program: &Path, account: Option<&Account>) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") {
            cmd.env_remove(name);
        }
    }
    if let Some(account) = account {
        let (uid, gid) = (account.uid, account.gid);
        // SAFETY: the closure runs in the forked child before exec and
        // only calls async-signal-safe functions (setgroups, setgid,
        // setuid) on values copied in; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                let groups = [gid];
                if libc::setgroups(1, groups.as_ptr()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.env("USER", &account.name).env("LOGNAME", &account.name);
    }
    cmd
}

/// Give `path` (not recursively) to `account`.
pub fn chown(path: &Path, account: &Account) -> Result<(), DevError> {
    std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid)).map_err(|e| {
        DevError::Setup(format!(
            "cannot give {} to the `{}` user: {e}",
            path.display(),
            account.name
        ))
    })
}

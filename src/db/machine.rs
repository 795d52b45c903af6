//! What resolving settings needs from the machine: the environment, the
//! operating system account, the default socket folder. Injected as a
//! `Machine` so that tests can stand in for it.

use std::path::{Path, PathBuf};

/// The socket folders libpq builds use by default (Debian's, then
/// upstream's), in the order they are tried.
pub(crate) const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// What resolution needs from the machine, injectable for tests.
pub(crate) struct Machine<'a> {
    pub(crate) env: &'a dyn Fn(&str) -> Option<String>,
    /// The operating system user's name and home folder.
    pub(crate) account: &'a dyn Fn() -> Option<(String, Option<PathBuf>)>,
    /// The default socket folder for a port.
    pub(crate) socket_dir: &'a dyn Fn(u16) -> PathBuf,
}

/// The default socket folder: the first of libpq's usual folders that has
/// this port's socket, else the first that exists.
pub(crate) fn default_socket_dir(port: u16) -> PathBuf {
    let socket = format!(".s.PGSQL.{port}");
    DEFAULT_SOCKET_DIRS
        .iter()
        .find(|d| Path::new(d).join(&socket).exists())
        .or_else(|| DEFAULT_SOCKET_DIRS.iter().find(|d| Path::new(d).is_dir()))
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

/// The effective user's name and home folder, from the password database
/// (as libpq's `pg_fe_getauthname`).
pub(crate) fn os_account() -> Option<(String, Option<PathBuf>)> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut buffer = vec![0 as libc::c_char; 1024];
    loop {
        // SAFETY: getpwuid_r writes only into `entry` and `buffer` (whose
        // length we pass), and sets `result` to null or to `&entry`; the
        // strings it points to live in `buffer`, which outlives their use.
        unsafe {
            let mut entry: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwuid_r(
                libc::geteuid(),
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut result,
            );
            if rc == libc::ERANGE && buffer.len() < 1 << 20 {
                buffer.resize(buffer.len() * 4, 0);
                continue;
            }
            if rc != 0 || result.is_null() || entry.pw_name.is_null() {
                return None;
            }
            let name = CStr::from_ptr(entry.pw_name).to_string_lossy().into_owned();
            let home = (!entry.pw_dir.is_null())
                .then(|| {
                    PathBuf::from(std::ffi::OsStr::from_bytes(
                        CStr::from_ptr(entry.pw_dir).to_bytes(),
                    ))
                })
                .filter(|h| !h.as_os_str().is_empty());
            return Some((name, home));
        }
    }
}

//! Setting the cluster up before a start: its folders (private, given to
//! the server's user, moved where that user can reach them), the socket
//! folder, `initdb` and the `jobsctl.conf` it includes (port and socket
//! folder), and a free port.

use super::account::{self, Account};
use super::binaries::Binaries;
use super::process::{run, text};
use super::{Cluster, DevError, STATE_FILE, SUPERUSER};
use std::path::{Path, PathBuf};

const CONF_FILE: &str = "jobsctl.conf";
/// Longest unix socket path Linux accepts (`sun_path` less its NUL).
const MAX_SOCKET_PATH: usize = 107;

impl Cluster {
    /// Create the folder (private), give it to the server's user and make
    /// sure that user can reach it; returns the folder for the server's
    /// files (`previous`, the folder itself, or for a project folder the
    /// server's user cannot reach, one under /var/tmp).
    pub(super) fn prepare_dirs(
        &self,
        previous: Option<PathBuf>,
        account: Option<&Account>,
    ) -> Result<PathBuf, DevError> {
        create_private_dir(&self.dir)?;
        let Some(account) = account else {
            return Ok(self.dir.clone());
        };
        if let Some(server_dir) = previous {
            create_private_dir(&server_dir)?;
            account::chown(&server_dir, account)?;
            return Ok(server_dir);
        }
        if reachable(&self.dir, account) {
            account::chown(&self.dir, account)?;
            if self.pgdata().exists() {
                account::chown(&self.pgdata(), account)?;
            }
            return Ok(self.dir.clone());
        }
        if !self.relocatable {
            return Err(DevError::Setup(format!(
                "the `{}` user, which runs the server because PostgreSQL refuses to run as root, cannot \
                 reach {} (a folder above it is closed to other users, as /root is): give a folder it \
                 can reach, e.g. --data-dir /var/tmp/jobsctl-dev",
                account.name,
                self.dir.display()
            )));
        }
        use sha2::Digest;
        let hash = sha2::Sha256::digest(self.dir.as_os_str().as_encoded_bytes());
        let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let server_dir = PathBuf::from(format!("/var/tmp/jobsctl-dev-{hex}"));
        if let Ok(meta) = std::fs::symlink_metadata(&server_dir) {
            use std::os::unix::fs::MetadataExt;
            if !meta.is_dir() || (meta.uid() != 0 && meta.uid() != account.uid) {
                return Err(DevError::Setup(format!(
                    "{} exists and is not a folder of root or `{}`: remove it, or give a folder with --data-dir",
                    server_dir.display(),
                    account.name
                )));
            }
        }
        create_private_dir(&server_dir)?;
        account::chown(&server_dir, account)?;
        if !reachable(&server_dir, account) {
            return Err(DevError::Setup(format!(
                "the `{}` user cannot reach {} nor {}: give a folder it can reach with --data-dir",
                account.name,
                self.dir.display(),
                server_dir.display()
            )));
        }
        tracing::info!(
            "the `{}` user cannot reach {}: the cluster's files go to {} (remembered in {})",
            account.name,
            self.dir.display(),
            server_dir.display(),
            self.dir.join(STATE_FILE).display()
        );
        Ok(server_dir)
    }

    pub(super) fn prepare_socket_dir(
        &self,
        dir: &Path,
        account: Option<&Account>,
    ) -> Result<(), DevError> {
        use std::os::unix::fs::MetadataExt;
        std::fs::create_dir_all(dir)
            .map_err(|e| DevError::Setup(format!("cannot create {}: {e}", dir.display())))?;
        let owner = account.map_or_else(
            // SAFETY: geteuid has no preconditions and cannot fail.
            || unsafe { libc::geteuid() },
            |a| a.uid,
        );
        if let Some(account) = account {
            account::chown(dir, account)?;
        }
        let meta = std::fs::symlink_metadata(dir)
            .map_err(|e| DevError::Setup(format!("{}: {e}", dir.display())))?;
        if !meta.is_dir() || meta.uid() != owner {
            return Err(DevError::Setup(format!(
                "{} is not a folder of the server's user: remove it, or pass another --data-dir",
                dir.display()
            )));
        }
        set_mode(dir, 0o700)
    }

    pub(super) fn initdb(
        &self,
        binaries: &Binaries,
        account: Option<&Account>,
    ) -> Result<(), DevError> {
        let mut initdb = account::command(&binaries.program("initdb"), account);
        initdb
            .current_dir(self.server_dir())
            .arg("-D")
            .arg(self.pgdata())
            .args([
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]);
        let output = run("initdb", initdb)?;
        if !output.status.success() {
            return Err(DevError::Failed(format!(
                "initdb failed: {}",
                text(&output)
            )));
        }
        let conf = self.pgdata().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)
            .map_err(|e| DevError::Failed(format!("{}: {e}", conf.display())))?;
        text.push_str(&format!(
            "\n# Port and socket folder of the jobsctl dev cluster, rewritten at each `jobsctl dev start`.\ninclude_if_exists '{CONF_FILE}'\n"
        ));
        write_file(&conf, &text)
    }

    pub(super) fn write_conf(
        &self,
        port: u16,
        socket_dir: &Path,
        account: Option<&Account>,
    ) -> Result<(), DevError> {
        let path = self.pgdata().join(CONF_FILE);
        let text = format!(
            "# Written by `jobsctl dev start`; the port is remembered in ../{STATE_FILE} (change it with --port).\n\
             port = {port}\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             listen_addresses = ''\n",
            socket_dir.display().to_string().replace('\'', "''")
        );
        write_file(&path, &text)?;
        if let Some(account) = account {
            account::chown(&path, account)?;
        }
        Ok(())
    }
}

/// `run/` in the server's folder, unless that path is too long for a unix
/// socket: then a private folder under the temporary folder.
pub(super) fn choose_socket_dir(server_dir: &Path) -> PathBuf {
    let local = server_dir.join("run");
    // "/.s.PGSQL.65535.lock" is the longest name the server puts there.
    if local.as_os_str().len() + "/.s.PGSQL.65535.lock".len() <= MAX_SOCKET_PATH {
        return local;
    }
    use sha2::Digest;
    let hash = sha2::Sha256::digest(server_dir.as_os_str().as_encoded_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    std::env::temp_dir().join(format!("jobsctl-dev-{uid}-{hex}"))
}

/// Create `dir` and its parents; a folder created now is private (0700).
pub(super) fn create_private_dir(dir: &Path) -> Result<(), DevError> {
    let fresh = !dir.exists();
    std::fs::create_dir_all(dir)
        .map_err(|e| DevError::Setup(format!("cannot create {}: {e}", dir.display())))?;
    if fresh {
        set_mode(dir, 0o700)?;
    }
    Ok(())
}

/// Whether `account` can reach `dir`: search its parent folder (and so
/// every folder above). `dir` itself is given to the account afterwards.
pub(super) fn reachable(dir: &Path, account: &Account) -> bool {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    account::command(Path::new("test"), Some(account))
        .arg("-x")
        .arg(parent)
        .status()
        .is_ok_and(|s| s.success())
}

pub(super) fn write_file(path: &Path, text: &str) -> Result<(), DevError> {
    std::fs::write(path, text)
        .map_err(|e| DevError::Setup(format!("cannot write {}: {e}", path.display())))
}

pub(super) fn set_mode(path: &Path, mode: u32) -> Result<(), DevError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| DevError::Setup(format!("cannot protect {}: {e}", path.display())))
}

/// A TCP port nobody listens on now (the cluster itself listens only on
/// its socket, but a port nobody else uses keeps `PGPORT` unambiguous).
pub(super) fn free_port() -> Result<u16, DevError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| DevError::Setup(format!("cannot find a free port: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_folders_put_the_socket_elsewhere() {
        assert_eq!(
            choose_socket_dir(Path::new("/p/.jobsctl/dev")),
            PathBuf::from("/p/.jobsctl/dev/run")
        );
        let dir = choose_socket_dir(&PathBuf::from(format!("/{}/.jobsctl/dev", "x".repeat(100))));
        assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
        assert!(dir.as_os_str().len() + 20 <= MAX_SOCKET_PATH);
    }
}

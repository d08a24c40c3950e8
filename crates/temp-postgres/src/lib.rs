//! A throwaway PostgreSQL server: Debian's binaries, a temp data directory, reached through
//! a Unix socket in that directory (and, for the benchmark, on loopback TCP too). The
//! collector's tests and its load benchmark start theirs with this.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the server syncs its commits to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fsync=off`: fast, for tests, where a crash of the machine loses nothing of value.
    Off,
    /// PostgreSQL's defaults (`fsync=on`, `synchronous_commit=on`): a commit is on disk
    /// when it returns, as in production; for measuring.
    Full,
}

/// How the server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// Only through its Unix socket, which is in its own temp directory: there is no port to
    /// pick, so no other process can take it between the pick and the server's bind, and any
    /// number of servers start at once (tests).
    Socket,
    /// On a free 127.0.0.1 port too, as a server on the network is reached (the benchmark
    /// measures that). The port is picked just before the server binds it.
    Loopback,
}

/// The port number in the socket file's name (`.s.PGSQL.5432`), not a TCP port.
const SOCKET_PORT: u16 = 5432;

/// Why the server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Debian's `postgresql` package is not installed.
    #[error(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: \
         install them (apt-get install -y postgresql, or scripts/setup.sh)"
    )]
    NoBinaries,
    /// A file or process could not be made.
    #[error("{0}: {1}")]
    Io(&'static str, std::io::Error),
    /// A PostgreSQL tool failed.
    #[error("{name} failed: {output}")]
    Tool {
        /// The tool.
        name: String,
        /// What it printed.
        output: String,
    },
}

/// A running server with one database, `assent`, stopped and removed on drop.
#[derive(Debug)]
pub struct TempPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Its connection URL.
    pub url: String,
}

fn find_bin() -> Result<PathBuf, Error> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists());
    // The newest major version: by number, as 15 is after 9.6.
    versions.sort_by_key(|bin| {
        let version = bin
            .parent()
            .and_then(Path::file_name)
            .and_then(|v| v.to_str());
        version
            .unwrap_or_default()
            .split('.')
            .map(|part| part.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    versions.pop().ok_or(Error::NoBinaries)
}

/// The file in a server's temp directory naming the process that started it: its pid and
/// pid namespace ([`owner`]).
const OWNER: &str = "owner.pid";

/// This process as [`OWNER`] names it: `<pid> <pid namespace>`. A process of another
/// namespace (a container sharing /tmp) is one this one can't see, not one that is gone.
fn owner() -> String {
    format!("{} {}", std::process::id(), owner_namespace())
}

/// This process's pid namespace, as `/proc/self/ns/pid` names it (`pid:[4026531836]`).
fn owner_namespace() -> String {
    std::fs::read_link("/proc/self/ns/pid")
        .map(|link| link.display().to_string())
        .unwrap_or_default()
}

/// Stops and removes the servers that processes now gone left running: a test run stopped
/// with Ctrl-C never drops its servers, and pg_ctl starts each in a session of its own, out
/// of reach of the terminal's signal. Only where `/proc` tells which processes live.
fn reap_orphans(bin: &Path) {
    // One reaper at a time in this process: another, finding the server being stopped,
    // would return before its directory is gone.
    static REAPING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _reaping = REAPING.lock();
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for dir in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
        let ours = dir
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("assent-pg-"));
        // No owner yet: a server being started now.
        let Some(owner) = ours
            .then(|| std::fs::read_to_string(dir.join(OWNER)).ok())
            .flatten()
        else {
            continue;
        };
        let (pid, namespace) = owner.trim().split_once(' ').unwrap_or_default();
        if owner_namespace() != namespace || pid.is_empty() || Path::new("/proc").join(pid).exists()
        {
            continue;
        }
        let _ = tool(bin, "pg_ctl")
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        // Left alone where it could not be stopped (another user's, say).
        if !dir.join("data/postmaster.pid").exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// A PostgreSQL tool, run as the `postgres` user when we are root (it refuses root).
fn tool(bin: &Path, name: &str) -> Command {
    let program = bin.join(name);
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Runs a tool and insists that it succeeds.
fn as_postgres(bin: &Path, name: &str, args: &[&str]) -> Result<(), Error> {
    let output = tool(bin, name)
        .args(args)
        .output()
        .map_err(|err| Error::Io("cannot run a PostgreSQL tool", err))?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::Tool {
        name: name.to_owned(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// `err` with the server's log added: pg_ctl says only "Examine the log output", and the
/// log goes with the temp directory.
fn with_server_log(err: Error, log: &Path) -> Error {
    match err {
        Error::Tool { name, output } => Error::Tool {
            name,
            output: format!(
                "{output}server log:\n{}",
                std::fs::read_to_string(log).unwrap_or_else(|e| format!("(unreadable: {e})"))
            ),
        },
        other => other,
    }
}

fn path_str(path: &Path) -> Result<&str, Error> {
    path.to_str().ok_or(Error::Io(
        "temp directory",
        std::io::Error::other("the temp path is not UTF-8"),
    ))
}

impl TempPostgres {
    /// For tests: initdb, start with `fsync=off` on its Unix socket alone, create database
    /// `assent`; panics with the reason when it can't (tests need it and are never
    /// skipped).
    pub fn start() -> Self {
        Self::try_start(Durability::Off, Listen::Socket)
            .unwrap_or_else(|err| panic!("{err}; these tests need it"))
    }

    /// initdb, start with `durability`, reached as `listen` says, create database `assent`.
    pub fn try_start(durability: Durability, listen: Listen) -> Result<Self, Error> {
        let bin = find_bin()?;
        reap_orphans(&bin);
        let dir = tempfile::Builder::new()
            .prefix("assent-pg-")
            .tempdir()
            .map_err(|err| Error::Io("cannot make a temp directory", err))?;
        std::fs::write(dir.path().join(OWNER), owner())
            .map_err(|err| Error::Io("cannot write the server's owner", err))?;
        if is_root() {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status()
                .map_err(|err| Error::Io("cannot run chown", err))?;
            if !status.success() {
                return Err(Error::Tool {
                    name: "chown".into(),
                    output: format!("chown to postgres failed: {status}"),
                });
            }
        }
        let data = dir.path().join("data");
        let data_s = path_str(&data)?;
        let mut initdb = vec!["-D", data_s, "-A", "trust", "-U", "postgres", "-E", "UTF8"];
        if durability == Durability::Off {
            initdb.push("--no-sync");
        }
        as_postgres(&bin, "initdb", &initdb)?;
        let socket_dir = path_str(dir.path())?.to_owned();
        let (port, addresses, url) = match listen {
            Listen::Socket => (
                SOCKET_PORT,
                "''",
                format!("postgres://postgres@localhost:{SOCKET_PORT}/assent?host={socket_dir}"),
            ),
            Listen::Loopback => {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .and_then(|listener| listener.local_addr())
                    .map_err(|err| Error::Io("cannot find a free port", err))?
                    .port();
                (
                    port,
                    "127.0.0.1",
                    format!("postgres://postgres@127.0.0.1:{port}/assent"),
                )
            }
        };
        let fsync = match durability {
            Durability::Off => "-c fsync=off",
            Durability::Full => "-c fsync=on -c synchronous_commit=on",
        };
        let options = format!(
            "-p {port} -c listen_addresses={addresses} -k {socket_dir} {fsync} -c max_connections=100"
        );
        let log = dir.path().join("log");
        as_postgres(
            &bin,
            "pg_ctl",
            &[
                "-D",
                data_s,
                "-l",
                path_str(&log)?,
                "-o",
                &options,
                "-w",
                "start",
            ],
        )
        .map_err(|err| with_server_log(err, &log))?;
        // Built before createdb so that a failure there still stops the server.
        let server = Self { dir, bin, url };
        as_postgres(
            &server.bin,
            "createdb",
            &[
                "-h",
                &socket_dir,
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "assent",
            ],
        )?;
        Ok(server)
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = tool(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `SHOW <setting>` says, asked through the server's socket.
    fn setting(server: &TempPostgres, name: &str) -> String {
        let output = tool(&server.bin, "psql")
            .args(["-h", path_str(server.dir.path()).expect("path"), "-p"])
            .arg(SOCKET_PORT.to_string())
            .args(["-U", "postgres", "-d", "assent", "-Atc"])
            .arg(format!("SHOW {name}"))
            .output()
            .expect("psql runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout)
            .expect("UTF-8")
            .trim()
            .to_owned()
    }

    /// A server whose starter is gone (a run stopped with Ctrl-C, which drops nothing) is
    /// stopped, and its directory removed, by the next start.
    #[test]
    fn a_server_left_by_a_process_now_gone_is_stopped_by_the_next_start() {
        let left = TempPostgres::start();
        let dir = left.dir.path().to_owned();
        let postmaster = std::fs::read_to_string(dir.join("data/postmaster.pid")).expect("running");
        let server_pid = postmaster.lines().next().expect("its pid").to_owned();
        assert!(Path::new("/proc").join(&server_pid).exists());
        // A process that has ended: its pid names none now.
        let mut ended = Command::new("true").spawn().expect("true runs");
        ended.wait().expect("true ends");
        let namespace = owner_namespace();
        std::fs::write(dir.join(OWNER), format!("{} {namespace}", ended.id()))
            .expect("owner written");
        std::mem::forget(left);
        let _next = TempPostgres::start();
        // Removed only once its server's pid file is gone: pg_ctl's word that it stopped.
        assert!(!dir.exists(), "its directory is removed");
        // And the process has ended: gone, or a zombie that whoever adopted it (pg_ctl
        // started it in a session of its own) has not reaped yet.
        let state = std::fs::read_to_string(Path::new("/proc").join(&server_pid).join("stat")).map(
            |stat| {
                stat.rsplit_once(") ")
                    .and_then(|(_, rest)| rest.chars().next())
            },
        );
        assert!(
            matches!(state, Err(_) | Ok(Some('Z'))),
            "its server is stopped: {state:?}"
        );
    }

    #[test]
    fn servers_started_at_once_all_start_on_their_own_sockets_with_no_tcp_port() {
        let servers: Vec<TempPostgres> = std::thread::scope(|scope| {
            let starting: Vec<_> = (0..4).map(|_| scope.spawn(TempPostgres::start)).collect();
            starting
                .into_iter()
                .map(|s| s.join().expect("started"))
                .collect()
        });
        for server in &servers {
            assert_eq!(setting(server, "listen_addresses"), "");
            assert_eq!(setting(server, "fsync"), "off");
            let socket_dir = path_str(server.dir.path()).expect("path");
            assert!(server.dir.path().join(".s.PGSQL.5432").exists());
            assert!(
                server.url.ends_with(&format!("?host={socket_dir}")),
                "{}",
                server.url
            );
        }
        let mut urls: Vec<&str> = servers.iter().map(|s| s.url.as_str()).collect();
        urls.sort_unstable();
        urls.dedup();
        assert_eq!(urls.len(), 4);
    }

    #[test]
    fn a_failed_start_carries_the_server_log() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("log");
        std::fs::write(&log, "FATAL:  could not create any TCP/IP sockets\n").expect("log");
        let failed = Error::Tool {
            name: "pg_ctl".into(),
            output: "pg_ctl: could not start server\nExamine the log output.\n".into(),
        };
        let message = with_server_log(failed, &log).to_string();
        assert!(message.starts_with("pg_ctl failed: pg_ctl: could not start server"));
        assert!(message.ends_with("server log:\nFATAL:  could not create any TCP/IP sockets\n"));
    }

    #[test]
    fn a_missing_log_is_said_so() {
        let failed = Error::Tool {
            name: "pg_ctl".into(),
            output: String::new(),
        };
        let message = with_server_log(failed, Path::new("/nonexistent/log")).to_string();
        assert!(message.contains("server log:\n(unreadable: "), "{message}");
    }
}

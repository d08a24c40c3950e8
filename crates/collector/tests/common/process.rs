//! Runs the real `assent-collector` binary.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};

pub const BIN: &str = env!("CARGO_BIN_EXE_assent-collector");

/// A `serve` process, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

/// A `serve` process that has not said it listens yet; killed on drop, so a test that
/// fails while others are starting leaves no process holding its output open.
pub struct Starting(Option<Child>);

impl Starting {
    /// Waits for the `listening on` line.
    pub fn ready(mut self) -> Server {
        let Some(mut child) = self.0.take() else {
            unreachable!("a Starting is made with its child")
        };
        let line = first_line(&mut child);
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok());
        match addr {
            Some(addr) => Server { child, addr },
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not start: {line:?}")
            }
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// Starts `serve` on port 0 with limits off, plus `extra` flags, and waits until it
    /// listens.
    pub fn start(database: &str, extra: &[&str]) -> Self {
        Self::spawn(database, extra).ready()
    }

    /// Starts `serve` without waiting.
    pub fn spawn(database: &str, extra: &[&str]) -> Starting {
        Self::spawn_with(database, extra, "warn", Stdio::inherit())
    }

    /// Starts `serve` like [`Server::start`] with the debug log written to `log`.
    pub fn start_logging(database: &str, extra: &[&str], log: &str) -> Self {
        let file = std::fs::File::create(log).unwrap();
        Self::spawn_with(database, extra, "debug", file.into()).ready()
    }

    /// Starts `serve` on `socket` ([`pass_socket`]) and waits until it listens; the
    /// `--listen 127.0.0.1:0` it is also given goes unused.
    pub fn start_on(socket: &TcpListener, database: &str, extra: &[&str]) -> Self {
        let mut command = Self::command(database, extra, "warn", Stdio::inherit());
        pass_socket(&mut command, socket.as_fd().try_clone_to_owned().unwrap());
        Starting(Some(command.spawn().unwrap())).ready()
    }

    /// Starts `serve` like [`Server::start`], its soft limit on open files set to `soft`
    /// first, as a shell's `ulimit -Sn` would.
    pub fn start_with_open_files(database: &str, soft: u64) -> Self {
        use std::os::unix::process::CommandExt;
        let mut command = Self::command(database, &[], "warn", Stdio::inherit());
        // SAFETY: between fork and exec the closure makes two system calls and allocates
        // nothing.
        unsafe {
            command.pre_exec(move || {
                let (_, hard) = rlimit::Resource::NOFILE.get()?;
                rlimit::Resource::NOFILE.set(soft, hard)
            });
        }
        Starting(Some(command.spawn().unwrap())).ready()
    }

    fn spawn_with(database: &str, extra: &[&str], log_level: &str, stderr: Stdio) -> Starting {
        Starting(Some(
            Self::command(database, extra, log_level, stderr)
                .spawn()
                .unwrap(),
        ))
    }

    fn command(database: &str, extra: &[&str], log_level: &str, stderr: Stdio) -> Command {
        let mut command = Command::new(BIN);
        command.arg("serve");
        // None given: the one a `--config` file names.
        if !database.is_empty() {
            command.args(["--database", database]);
        }
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(["--rate-per-ip", "0", "--rate-per-site", "0"])
            .args(["--allowed-origins", super::ORIGIN])
            .args(extra)
            .env("RUST_LOG", log_level)
            .stdout(Stdio::piped())
            .stderr(stderr);
        command
    }

    /// SIGTERM, and waits for the process to finish what it has open and exit.
    pub fn stop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exited {status} on SIGTERM");
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Passes `socket` to `command`'s process as systemd's socket activation does: at fd 3, with
/// `LISTEN_FDS=1` (without `LISTEN_PID`, which listenfd then takes as the process's own).
pub fn pass_socket(command: &mut Command, socket: OwnedFd) -> &mut Command {
    command
        .env("LISTEN_FDS", "1")
        .fd_mappings(vec![FdMapping {
            parent_fd: socket,
            child_fd: 3,
        }])
        .unwrap()
}

/// The first line `child` writes on its piped stdout: `serve`'s `listening on …`, or ""
/// if it exits without one.
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

/// Runs `serve` as `command` says, for a start that must be refused: panics if it says it
/// listens, else returns its output once it has exited.
pub fn refused_start(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    if !line.is_empty() {
        let _ = child.kill();
        panic!("it started: {line}");
    }
    child.wait_with_output().unwrap()
}

/// Runs a subcommand to completion.
pub fn run(args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    output
}

/// `export` as parsed lines.
pub fn export(database: &str) -> Vec<serde_json::Value> {
    let output = run(&["export", "--database", database]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// `verify` as parsed JSON, with its exit status.
pub fn verify(database: &str, extra: &[&str]) -> (bool, serde_json::Value) {
    let output = run(&[&["verify", "--database", database], extra].concat());
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "verify failed ({}): {:?} {:?}",
            output.status,
            output.stdout,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), report)
}

/// POSTs records from `tasks` concurrent clients, `each` per client, and returns their
/// ids: every POST must be acknowledged (201 or 200), however long a busy machine takes.
pub async fn burst(addrs: &[SocketAddr], tasks: usize, each: usize) -> Vec<String> {
    posts(addrs, tasks, each, &Arc::new(AtomicUsize::new(0)), false).await
}

/// POSTs as [`burst`] does to a server that is killed meanwhile, counting each
/// acknowledgement in `counted` as it comes: a client stops at its first failed request,
/// and the ids acknowledged are returned.
pub async fn burst_counted(
    addrs: &[SocketAddr],
    tasks: usize,
    each: usize,
    counted: &Arc<AtomicUsize>,
) -> Vec<String> {
    posts(addrs, tasks, each, counted, true).await
}

async fn posts(
    addrs: &[SocketAddr],
    tasks: usize,
    each: usize,
    counted: &Arc<AtomicUsize>,
    until_failure: bool,
) -> Vec<String> {
    // No time limit per request: a slow answer (a checkpoint, the other process's lock) is
    // still an answer, and a client that gave up on it would lose its count unsaid.
    let client = reqwest::Client::new();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let client = client.clone();
        let addr = addrs[task % addrs.len()];
        let counted = counted.clone();
        handles.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut next = None;
            // At most 90 s of 503s, 100 ms apart: past that, a failure, not slowness.
            let mut retries = 0;
            while acked.len() < each {
                let id = next.take().unwrap_or_else(super::new_id);
                let sent = client
                    .post(format!("http://{addr}/v1/records"))
                    .header("content-type", "application/json")
                    .body(super::record(&id).to_string())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().as_u16() == 201 || r.status().as_u16() == 200 => {
                        acked.push(id);
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                    // The write lock held past the busy timeout (another process's commit
                    // on a slow disk): nothing stored; the same record again, as the widget
                    // sends it.
                    Ok(r) if r.status().as_u16() == 503 && retries < 900 => {
                        retries += 1;
                        next = Some(id);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) if until_failure => break,
                    Err(err) => panic!("a POST failed: {err}"),
                }
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for handle in handles {
        acked.extend(handle.await.unwrap());
    }
    acked
}

//! The listening socket: the one a service manager passed (systemd socket activation: the
//! socket at fd 3, `LISTEN_FDS=1`, `LISTEN_PID`), else one bound to `--listen`. A passed
//! socket outlives the process, so a restart refuses no connection: connections made in
//! between wait in its backlog for the next process.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::commands::CommandError;

/// The socket the service manager passed, if any, taken out of the environment.
#[derive(Debug)]
pub struct Passed(Result<Option<std::net::TcpListener>, std::io::Error>);

impl Passed {
    /// Reads `LISTEN_FDS` and `LISTEN_PID` and removes them from the environment (so no
    /// child process takes the socket for its own), which is sound only before a second
    /// thread runs: call it first thing in `main`.
    pub fn from_env() -> Self {
        let mut passed = listenfd::ListenFd::from_env();
        if passed.len() > 1 {
            tracing::warn!(
                sockets = passed.len(),
                "the service manager passed more than one socket; only the first is used"
            );
        }
        Self(passed.take_tcp_listener(0))
    }

    /// None passed: `serve` binds `--listen`.
    pub fn none() -> Self {
        Self(Ok(None))
    }

    /// The passed socket, else a new one bound to `addr`.
    pub async fn listener(self, addr: SocketAddr) -> Result<TcpListener, CommandError> {
        match self.0 {
            Ok(Some(socket)) => {
                // Bound but not listening, every accept would fail: refused here instead.
                if !listens(&socket)? {
                    return Err(CommandError::PassedSocket(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "fd 3 is bound but not listening",
                    )));
                }
                tracing::info!("listening on the socket the service manager passed, not --listen");
                socket.set_nonblocking(true)?;
                TcpListener::from_std(socket).map_err(CommandError::PassedSocket)
            }
            Ok(None) => TcpListener::bind(addr)
                .await
                .map_err(|source| CommandError::Listen { addr, source }),
            Err(source) => Err(CommandError::PassedSocket(source)),
        }
    }
}

/// Whether `listen(2)` was called on `socket` (`SO_ACCEPTCONN`); taken as yes where the
/// system can't be asked.
fn listens(socket: &std::net::TcpListener) -> std::io::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    return socket2::SockRef::from(socket).is_listener();
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        let _ = socket;
        Ok(true)
    }
}

use std::io;
use std::net::SocketAddr;

/// Errors of starting or running a [`MockServer`](crate::MockServer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The listening socket could not be bound.
    #[error("failed to bind the mock server to {addr}: {source}; pick a free port or port 0")]
    Bind {
        /// The address that was requested.
        addr: SocketAddr,
        /// The operating system error.
        #[source]
        source: io::Error,
    },
    /// The bound socket did not report its local address.
    #[error("failed to read the local address of the mock server socket: {source}")]
    LocalAddr {
        /// The operating system error.
        #[source]
        source: io::Error,
    },
}

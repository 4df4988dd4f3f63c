//! [`Address`]: where a manager listens and clients connect.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A manager's address: a Unix domain socket path or a TCP socket address.
///
/// Written as `unix:/path/to/socket` or `tcp:127.0.0.1:5000`; that is also how
/// it travels to workers in the environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A Unix domain socket at this path.
    Unix(PathBuf),
    /// A TCP socket.
    Tcp(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
            Address::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// A string that is not an [`Address`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a manager address: {reason}")]
pub struct AddressParseError {
    input: String,
    reason: &'static str,
}

impl FromStr for Address {
    type Err = AddressParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| AddressParseError {
            input: s.to_owned(),
            reason,
        };
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(err("the socket path is empty"));
            }
            Ok(Address::Unix(PathBuf::from(path)))
        } else if let Some(addr) = s.strip_prefix("tcp:") {
            addr.parse()
                .map(Address::Tcp)
                .map_err(|_| err("expected tcp:HOST-IP:PORT"))
        } else {
            Err(err("expected unix:PATH or tcp:IP:PORT"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        for s in ["unix:/tmp/m.sock", "tcp:127.0.0.1:5000", "tcp:[::1]:80"] {
            assert_eq!(s.parse::<Address>().unwrap().to_string(), s);
        }
        assert!("http://x".parse::<Address>().is_err());
        assert!("tcp:localhost".parse::<Address>().is_err());
        assert!("unix:".parse::<Address>().is_err());
    }
}

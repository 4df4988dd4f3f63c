//! The connection handshake: protocol version, then mutual authentication.
//!
//! See [`manager_core::protocol`] for the three messages. The manager runs
//! its side of the handshake under a deadline with a small frame limit, so a silent, slow or
//! chatty peer costs it one short-lived task and nothing else.

use manager_core::PROTOCOL_VERSION;
use manager_core::protocol::{ClientAuth, MAGIC, ServerHello, ServerVerdict};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::auth::{self, AuthKey};
use crate::frame::{FrameBuffer, FrameError, HANDSHAKE_MAX_FRAME, write_one};

const CLIENT_LABEL: &[u8] = b"manager-ipc client";
const SERVER_LABEL: &[u8] = b"manager-ipc server";

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer does not speak this protocol at all.
    #[error("the peer is not a manager (bad greeting)")]
    NotAManager,
    /// Both sides speak the protocol, but different versions of it.
    #[error("protocol version mismatch: manager speaks v{manager}, client v{client}")]
    VersionMismatch {
        /// The manager's version.
        manager: u16,
        /// The client's version.
        client: u16,
    },
    /// The manager refused the client, in its own words (for example
    /// "authentication failed: wrong authkey" or "too many connections: the
    /// limit is 1024").
    #[error("{0}")]
    Rejected(String),
    /// The key was right but the manager cannot take the connection (seen
    /// on the manager's side), for example at its connection limit.
    #[error("refused: {0}")]
    Refused(String),
    /// The manager could not prove that it holds the key.
    #[error("authentication failed: the manager does not hold the same authkey")]
    ManagerNotAuthenticated,
    /// The client's proof was wrong (seen on the manager's side).
    #[error("authentication failed: wrong authkey")]
    WrongKey,
    /// The handshake did not finish in time.
    #[error("handshake timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// A message could not be read or written.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// What a successful handshake establishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The manager's number for this connection.
    pub connection: u64,
    /// The manager's identity, a random number it chose when it started.
    pub manager: u64,
    /// The largest frame either side may send on it, in bytes.
    pub max_frame: usize,
}

/// The manager's side, for servers of the protocol on a stream of their
/// own (the manager runs it on every connection, under a deadline). Once
/// the client has proved it holds the key, `admit` decides whether the
/// manager takes it (what it returns, a slot under the connection limit,
/// is handed back); its `Err` is the reason told to the client. On success
/// the connection may carry requests; `buf` may hold bytes that followed
/// the handshake. `session` is what the client is told.
///
/// # Errors
///
/// [`HandshakeError::VersionMismatch`], [`HandshakeError::WrongKey`] or
/// [`HandshakeError::Refused`] if the client was refused (it has been told
/// why), otherwise [`HandshakeError::Frame`] if a message could not be read
/// or written.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin, T>(
    stream: &mut S,
    buf: &mut FrameBuffer,
    key: &AuthKey,
    session: Session,
    admit: impl FnOnce() -> Result<T, String>,
) -> Result<T, HandshakeError> {
    let server_nonce = auth::nonce().map_err(FrameError::Io)?;
    let hello = ServerHello {
        magic: MAGIC,
        version: PROTOCOL_VERSION,
        nonce: server_nonce,
    };
    write_one(stream, &hello, HANDSHAKE_MAX_FRAME).await?;
    let answer: ClientAuth = buf.read_one(stream).await?;
    let refusal = if answer.version != PROTOCOL_VERSION {
        Some(HandshakeError::VersionMismatch {
            manager: PROTOCOL_VERSION,
            client: answer.version,
        })
    } else if !key.verify(CLIENT_LABEL, &server_nonce, &answer.nonce, &answer.mac) {
        Some(HandshakeError::WrongKey)
    } else {
        None
    };
    let refusal = match refusal {
        Some(refusal) => Err(refusal),
        None => admit().map_err(HandshakeError::Refused),
    };
    let admitted = match refusal {
        Ok(admitted) => admitted,
        Err(refusal) => {
            let verdict = ServerVerdict::Rejected {
                reason: match &refusal {
                    HandshakeError::Refused(reason) => reason.clone(),
                    other => other.to_string(),
                },
            };
            // Best effort: the peer may already be gone.
            let _ = write_one(stream, &verdict, HANDSHAKE_MAX_FRAME).await;
            return Err(refusal);
        }
    };
    let verdict = ServerVerdict::Welcome {
        mac: key.mac(SERVER_LABEL, &answer.nonce, &server_nonce),
        connection: session.connection,
        manager: session.manager,
        max_frame: u32::try_from(session.max_frame).unwrap_or(u32::MAX),
    };
    write_one(stream, &verdict, HANDSHAKE_MAX_FRAME).await?;
    Ok(admitted)
}

/// The client's side, for tools that speak the protocol on a stream of their
/// own ([`Connection::connect`](crate::Connection::connect) runs it for you). Returns the manager's
/// number for this connection and its frame limit; `buf` may hold bytes that
/// followed the handshake.
///
/// # Errors
///
/// [`HandshakeError`] says why the manager or this side refused.
pub async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut FrameBuffer,
    key: &AuthKey,
) -> Result<Session, HandshakeError> {
    let hello: ServerHello = buf.read_one(stream).await.map_err(|e| match e {
        FrameError::Codec(_) | FrameError::TooLarge { .. } => HandshakeError::NotAManager,
        other => other.into(),
    })?;
    if hello.magic != MAGIC {
        return Err(HandshakeError::NotAManager);
    }
    if hello.version != PROTOCOL_VERSION {
        return Err(HandshakeError::VersionMismatch {
            manager: hello.version,
            client: PROTOCOL_VERSION,
        });
    }
    let client_nonce = auth::nonce().map_err(FrameError::Io)?;
    let answer = ClientAuth {
        version: PROTOCOL_VERSION,
        nonce: client_nonce,
        mac: key.mac(CLIENT_LABEL, &hello.nonce, &client_nonce),
    };
    write_one(stream, &answer, HANDSHAKE_MAX_FRAME).await?;
    match buf.read_one::<ServerVerdict, _>(stream).await? {
        ServerVerdict::Welcome {
            mac,
            connection,
            manager,
            max_frame,
        } => {
            if key.verify(SERVER_LABEL, &client_nonce, &hello.nonce, &mac) {
                Ok(Session {
                    connection,
                    manager,
                    max_frame: max_frame as usize,
                })
            } else {
                Err(HandshakeError::ManagerNotAuthenticated)
            }
        }
        ServerVerdict::Rejected { reason } => Err(HandshakeError::Rejected(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: Session = Session {
        connection: 9,
        manager: 77,
        max_frame: 1234,
    };

    async fn run(
        server_key: &AuthKey,
        client_key: &AuthKey,
    ) -> (Result<(), HandshakeError>, Result<Session, HandshakeError>) {
        let (mut a, mut b) = tokio::io::duplex(4096);
        let mut sbuf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        let mut cbuf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        tokio::join!(
            accept(&mut a, &mut sbuf, server_key, SESSION, || Ok(())),
            initiate(&mut b, &mut cbuf, client_key)
        )
    }

    #[tokio::test]
    async fn same_key_succeeds() {
        let key = AuthKey::random().unwrap();
        let (server, client) = run(&key, &key).await;
        server.unwrap();
        assert_eq!(client.unwrap(), SESSION);
    }

    #[tokio::test]
    async fn wrong_key_fails_on_both_sides() {
        let (server, client) = run(&AuthKey::random().unwrap(), &AuthKey::random().unwrap()).await;
        assert!(matches!(server, Err(HandshakeError::WrongKey)));
        let err = client.unwrap_err();
        assert_eq!(err.to_string(), "authentication failed: wrong authkey");
    }

    #[tokio::test]
    async fn a_refusal_reaches_the_client_in_the_manager_s_words() {
        let key = AuthKey::random().unwrap();
        let (mut a, mut b) = tokio::io::duplex(4096);
        let mut sbuf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        let mut cbuf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        let (server, client) = tokio::join!(
            accept(&mut a, &mut sbuf, &key, SESSION, || {
                Err::<(), _>("too many connections: the limit is 2".to_owned())
            }),
            initiate(&mut b, &mut cbuf, &key)
        );
        assert!(matches!(server, Err(HandshakeError::Refused(_))));
        assert_eq!(
            client.unwrap_err().to_string(),
            "too many connections: the limit is 2"
        );
    }
}

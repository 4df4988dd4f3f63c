//! Errors of this crate.

/// The actor system could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The OS refused a new thread.
    #[error("start actor system thread: {0}")]
    Spawn(std::io::Error),
    /// The caller's setup failed.
    #[error("set up actor system: {0}")]
    Setup(Box<dyn std::error::Error + Send + Sync>),
    /// The thread ended before it reported back (it panicked).
    #[error("actor system thread died while starting")]
    Died,
}

//! [`Barrier`]: the blocking proxy of a shared barrier; see
//! [`proxy::Barrier`] for what each method does.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::Error;
use crate::proxy;

/// The blocking handle of [`proxy::Barrier`].
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let client = manager.connect()?;
/// let start = client.barrier("start", 2)?;
/// let other = std::thread::spawn({
///     let start = start.clone();
///     move || start.wait()
/// });
/// let mine = start.wait()?;
/// let theirs = other.join().unwrap()?;
/// assert_eq!(mine + theirs, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Barrier {
    inner: proxy::Barrier,
    runtime: Runner,
}

impl Barrier {
    pub(crate) fn new(inner: proxy::Barrier, runtime: Runner) -> Self {
        Barrier { inner, runtime }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.inner.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.inner.id()
    }

    /// The async handle underneath.
    pub fn as_async(&self) -> &proxy::Barrier {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::Barrier::wait`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn wait(&self) -> Result<u64, Error> {
        self.runtime.run(self.inner.wait())
    }

    /// See [`proxy::Barrier::wait_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u64, Error> {
        self.runtime.run(self.inner.wait_timeout(timeout))
    }

    /// See [`proxy::Barrier::abort`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn abort(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.abort())
    }

    /// See [`proxy::Barrier::reset`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn reset(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.reset())
    }

    /// See [`proxy::Barrier::parties`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn parties(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.parties())
    }

    /// See [`proxy::Barrier::n_waiting`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn n_waiting(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.n_waiting())
    }

    /// See [`proxy::Barrier::broken`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn broken(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.broken())
    }
}

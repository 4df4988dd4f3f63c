//! [`Event`]: the blocking proxy of a shared flag; see [`proxy::Event`] for
//! what each method does.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::Error;
use crate::proxy;

/// The blocking handle of [`proxy::Event`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let manager = manager::Manager::start()?;
/// let ready = manager.connect()?.event("ready")?;
/// assert!(!ready.wait_timeout(Duration::ZERO)?);
/// ready.set()?;
/// assert!(ready.wait()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Event {
    inner: proxy::Event,
    runtime: Runner,
}

impl Event {
    pub(crate) fn new(inner: proxy::Event, runtime: Runner) -> Self {
        Event { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Event {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::Event::set`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn set(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.set())
    }

    /// See [`proxy::Event::clear`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn clear(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.clear())
    }

    /// See [`proxy::Event::is_set`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_set(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_set())
    }

    /// See [`proxy::Event::wait`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn wait(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.wait())
    }

    /// See [`proxy::Event::wait_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        self.runtime.run(self.inner.wait_timeout(timeout))
    }
}

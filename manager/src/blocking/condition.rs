//! [`Condition`]: the blocking proxy of a shared condition variable with its
//! own re-entrant lock, and [`ConditionGuard`], which releases the lock when
//! dropped; see [`proxy::Condition`] for what each method does.
//!
//! The owner is the calling thread: two threads sharing one client are two
//! owners.

use std::time::{Duration, Instant};

use manager_core::request::{Owner, Wait};
use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::Error;
use crate::proxy::{self, current_owner};

/// The blocking handle of [`proxy::Condition`].
///
/// # Examples
///
/// A thread waits until another has set a flag:
///
/// ```
/// use std::time::Duration;
///
/// let manager = manager::Manager::start()?;
/// let client = manager.connect()?;
/// let ready = client.condition("ready")?;
/// let flags = client.namespace("flags")?;
/// let setter = {
///     let (ready, flags) = (ready.clone(), flags.clone());
///     std::thread::spawn(move || -> Result<u64, manager::Error> {
///         let _guard = ready.guard()?;
///         flags.set("done", &true)?;
///         ready.notify_all()
///     })
/// };
/// let guard = ready.guard()?;
/// let done = ready.wait_for(
///     || flags.try_get::<bool>("done").ok().flatten().unwrap_or(false),
///     Some(Duration::from_secs(10)),
/// )?;
/// assert!(done);
/// drop(guard);
/// setter.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Condition {
    inner: proxy::Condition,
    runtime: Runner,
}

impl Condition {
    pub(crate) fn new(inner: proxy::Condition, runtime: Runner) -> Self {
        Condition { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Condition {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::Condition::acquire`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn acquire(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.acquire_as(current_owner()))
    }

    /// See [`proxy::Condition::acquire_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        let wait = Wait::from_timeout(Some(timeout));
        self.runtime
            .run(self.inner.acquire_wait_as(current_owner(), wait))
    }

    /// See [`proxy::Condition::try_acquire`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn try_acquire(&self) -> Result<bool, Error> {
        self.runtime
            .run(self.inner.acquire_wait_as(current_owner(), Wait::No))
    }

    /// See [`proxy::Condition::release`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn release(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.release_as(current_owner()))
    }

    /// Takes the lock (as [`Condition::acquire`]) and returns a guard that
    /// releases it once when dropped, before `drop` returns.
    ///
    /// # Errors
    ///
    /// As [`Condition::acquire`].
    pub fn guard(&self) -> Result<ConditionGuard, Error> {
        let owner = current_owner();
        self.runtime.run(self.inner.acquire_as(owner))?;
        Ok(ConditionGuard {
            condition: Some(self.clone()),
            owner,
        })
    }

    /// See [`proxy::Condition::wait`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn wait(&self) -> Result<bool, Error> {
        self.runtime
            .run(self.inner.wait_as(current_owner(), Wait::Forever))
    }

    /// See [`proxy::Condition::wait_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        let wait = Wait::from_timeout(Some(timeout));
        self.runtime.run(self.inner.wait_as(current_owner(), wait))
    }

    /// See [`proxy::Condition::wait_for`]. The predicate runs on this
    /// thread between waits, not inside the client's runtime, so it may use
    /// other blocking proxies.
    ///
    /// # Errors
    ///
    /// As there.
    pub fn wait_for(
        &self,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool, Error> {
        let owner = current_owner();
        let start = Instant::now();
        loop {
            if predicate() {
                return Ok(true);
            }
            let left = timeout.map(|t| t.saturating_sub(start.elapsed()));
            if left == Some(Duration::ZERO) {
                return Ok(false);
            }
            self.runtime
                .run(self.inner.wait_as(owner, Wait::from_timeout(left)))?;
        }
    }

    /// See [`proxy::Condition::notify`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn notify(&self, n: u64) -> Result<u64, Error> {
        self.runtime.run(self.inner.notify_as(current_owner(), n))
    }

    /// See [`proxy::Condition::notify_all`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn notify_all(&self) -> Result<u64, Error> {
        self.runtime.run(self.inner.notify_all_as(current_owner()))
    }
}

/// Holds a blocking [`Condition`]'s lock (once) until dropped or released.
///
/// Dropping it releases the lock before `drop` returns, as the thread that
/// took it, even while unwinding from a panic. An error of that release is
/// logged (at debug level) and otherwise ignored; use
/// [`ConditionGuard::release`] to see it.
///
/// # Panics
///
/// Dropping it inside an async runtime panics, like every blocking call.
#[derive(Debug)]
#[must_use = "the lock is released when the guard is dropped"]
pub struct ConditionGuard {
    condition: Option<Condition>,
    owner: Owner,
}

impl ConditionGuard {
    /// Releases the lock now and returns the manager's answer.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotHeld`](crate::ManagerError::NotHeld) if it was
    /// released meanwhile by other means, and the errors of every call.
    pub fn release(mut self) -> Result<(), Error> {
        self.release_now()
    }

    fn release_now(&mut self) -> Result<(), Error> {
        match self.condition.take() {
            Some(c) => c.runtime.run(c.inner.release_as(self.owner)),
            None => Ok(()),
        }
    }
}

impl Drop for ConditionGuard {
    fn drop(&mut self) {
        if let Err(error) = self.release_now() {
            tracing::debug!(%error, "release from a dropped condition guard failed");
        }
    }
}

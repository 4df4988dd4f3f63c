//! [`Semaphore`], [`BoundedSemaphore`]: the async proxies of a shared
//! counting semaphore, and [`SemaphoreGuard`], which gives its unit back
//! when dropped.
//!
//! Units are counted per connection, not per owner: any task or thread may
//! release a unit, as in Python.
//!
//! # What happens when a holder dies
//!
//! When a process ends, however it ends, the units its connection acquired
//! and did not release come back (a bounded semaphore's never past its
//! bound) and go to whoever waits.

use std::time::Duration;

use manager_core::request::{ObjectRequest, SemaphoreRequest, Wait};
use manager_core::{ObjectId, ObjectName};

use super::lock::wait_cut_short;
use super::object::ObjectRef;
use crate::Error;

/// A handle on a shared counting semaphore, like Python's
/// `Manager().Semaphore()`.
///
/// It starts with the units it was created with; an acquire takes one,
/// waiting in arrival order while there is none, and a release gives units
/// back (any number, even past the initial value; see
/// [`BoundedSemaphore`] for one that refuses that).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let manager = manager_ipc::Manager::start()?;
/// # let client = manager.connect_async().await?;
/// let slots = client.semaphore("download-slots", 2).await?;
/// let first = slots.guard().await?;
/// slots.acquire().await?;
/// assert_eq!(slots.value().await?, 0);
/// assert!(!slots.try_acquire().await?);
/// first.release().await?;
/// slots.release().await?;
/// assert_eq!(slots.value().await?, 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Semaphore {
    object: ObjectRef,
}

impl Semaphore {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Semaphore { object }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.object.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.object.id()
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.object.with_timeout(timeout))
    }

    /// Takes one unit, waiting as long as there is none (Python's
    /// `acquire()`).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] on a handle with a timeout
    /// ([`Semaphore::with_timeout`]) if no unit came that long, and the
    /// errors of every call.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped after the request went
    /// out, the manager may still grant the unit, which then counts as this
    /// connection's until released or until the connection closes.
    pub async fn acquire(&self) -> Result<(), Error> {
        acquire(&self.object).await
    }

    /// Takes one unit, waiting at most `timeout`; returns whether it got
    /// one. The manager's clock ends the wait.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`].
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        acquire_wait(&self.object, Wait::from_timeout(Some(timeout))).await
    }

    /// Takes one unit if there is one; returns whether it got one (Python's
    /// `acquire(blocking=False)`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub async fn try_acquire(&self) -> Result<bool, Error> {
        acquire_wait(&self.object, Wait::No).await
    }

    /// Gives one unit back.
    ///
    /// # Errors
    ///
    /// [`ManagerError::TooManyReleases`](crate::ManagerError::TooManyReleases)
    /// if the value would overflow `u64`, and the errors of every call.
    pub async fn release(&self) -> Result<(), Error> {
        release(&self.object, 1).await
    }

    /// Gives `n` units back at once (Python's `release(n)`); `n = 0` changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// As [`Semaphore::release`].
    pub async fn release_n(&self, n: u64) -> Result<(), Error> {
        release(&self.object, n).await
    }

    /// The units available now.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub async fn value(&self) -> Result<u64, Error> {
        value(&self.object).await
    }

    /// Takes one unit (as [`Semaphore::acquire`]) and returns a guard that
    /// gives it back when dropped (Python's `with semaphore:`).
    ///
    /// # Errors
    ///
    /// As [`Semaphore::acquire`].
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`].
    pub async fn guard(&self) -> Result<SemaphoreGuard, Error> {
        guard(&self.object).await
    }
}

/// A handle on a shared semaphore that refuses releases past its initial
/// value, like Python's `Manager().BoundedSemaphore()`.
///
/// A release that would take the value past the bound fails with
/// [`ManagerError::TooManyReleases`](crate::ManagerError::TooManyReleases)
/// and changes nothing, so a stray extra release shows up as an error
/// instead of quietly letting one more holder in.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let manager = manager_ipc::Manager::start()?;
/// # let client = manager.connect_async().await?;
/// use manager_ipc::{Error, ManagerError};
///
/// let pool = client.bounded_semaphore("db-connections", 1).await?;
/// {
///     let _unit = pool.guard().await?;
///     assert_eq!(pool.value().await?, 0);
/// }
/// assert!(matches!(
///     pool.release().await,
///     Err(Error::Manager(ManagerError::TooManyReleases { .. }))
/// ));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BoundedSemaphore {
    object: ObjectRef,
}

impl BoundedSemaphore {
    pub(crate) fn new(object: ObjectRef) -> Self {
        BoundedSemaphore { object }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.object.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.object.id()
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.object.with_timeout(timeout))
    }

    /// Takes one unit, waiting as long as there is none.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] on a handle with a timeout if no unit came that
    /// long, and the errors of every call.
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`].
    pub async fn acquire(&self) -> Result<(), Error> {
        acquire(&self.object).await
    }

    /// Takes one unit, waiting at most `timeout`; returns whether it got
    /// one.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`].
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        acquire_wait(&self.object, Wait::from_timeout(Some(timeout))).await
    }

    /// Takes one unit if there is one; returns whether it got one.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub async fn try_acquire(&self) -> Result<bool, Error> {
        acquire_wait(&self.object, Wait::No).await
    }

    /// Gives one unit back.
    ///
    /// # Errors
    ///
    /// [`ManagerError::TooManyReleases`](crate::ManagerError::TooManyReleases)
    /// if the value would pass the bound (nothing changes then), and the
    /// errors of every call.
    pub async fn release(&self) -> Result<(), Error> {
        release(&self.object, 1).await
    }

    /// Gives `n` units back at once, or none if that would pass the bound.
    ///
    /// # Errors
    ///
    /// As [`BoundedSemaphore::release`].
    pub async fn release_n(&self, n: u64) -> Result<(), Error> {
        release(&self.object, n).await
    }

    /// The units available now.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub async fn value(&self) -> Result<u64, Error> {
        value(&self.object).await
    }

    /// Takes one unit and returns a guard that gives it back when dropped.
    ///
    /// # Errors
    ///
    /// As [`BoundedSemaphore::acquire`].
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`].
    pub async fn guard(&self) -> Result<SemaphoreGuard, Error> {
        guard(&self.object).await
    }
}

/// Holds one unit of a [`Semaphore`] or [`BoundedSemaphore`] until dropped
/// or released.
///
/// Dropping it sends the release without waiting for the answer (a `drop`
/// cannot wait), in order with this connection's later requests. Use
/// [`SemaphoreGuard::release`] to wait for it and see its error.
#[derive(Debug)]
#[must_use = "the unit is given back when the guard is dropped"]
pub struct SemaphoreGuard {
    object: ObjectRef,
    held: bool,
}

impl SemaphoreGuard {
    /// Gives the unit back and waits for the manager's answer.
    ///
    /// # Errors
    ///
    /// [`ManagerError::TooManyReleases`](crate::ManagerError::TooManyReleases)
    /// if a bounded semaphore is already at its bound (the unit was given
    /// back by other means), and the errors of every call.
    pub async fn release(mut self) -> Result<(), Error> {
        self.held = false;
        release(&self.object, 1).await
    }
}

impl Drop for SemaphoreGuard {
    fn drop(&mut self) {
        if self.held
            && let Err(error) = self
                .object
                .send_detached(ObjectRequest::Semaphore(SemaphoreRequest::Release { n: 1 }))
        {
            tracing::debug!(
                semaphore = %self.object.what(),
                %error,
                "release from a dropped guard failed"
            );
        }
    }
}

async fn guard(object: &ObjectRef) -> Result<SemaphoreGuard, Error> {
    acquire(object).await?;
    Ok(SemaphoreGuard {
        object: object.clone(),
        held: true,
    })
}

async fn acquire(object: &ObjectRef) -> Result<(), Error> {
    if acquire_wait(object, Wait::Forever).await? {
        Ok(())
    } else {
        Err(wait_cut_short(object))
    }
}

async fn acquire_wait(object: &ObjectRef, wait: Wait) -> Result<bool, Error> {
    object
        .call_bool(ObjectRequest::Semaphore(SemaphoreRequest::Acquire { wait }))
        .await
}

async fn release(object: &ObjectRef, n: u64) -> Result<(), Error> {
    object
        .call_done(ObjectRequest::Semaphore(SemaphoreRequest::Release { n }))
        .await
}

async fn value(object: &ObjectRef) -> Result<u64, Error> {
    object
        .call_count(ObjectRequest::Semaphore(SemaphoreRequest::Value))
        .await
}

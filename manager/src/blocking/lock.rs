//! [`Lock`], [`RLock`]: the blocking proxies of a shared lock and
//! re-entrant lock, and [`LockGuard`], which releases when dropped; see
//! [`proxy::Lock`] and [`proxy::RLock`] for what each method does.
//!
//! The owner is the calling thread: two threads sharing one client are two
//! owners.

use std::time::Duration;

use manager_core::request::{Owner, Wait};
use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::Error;
use crate::proxy::{self, current_owner};

/// Defines a blocking lock handle type over the async one of the same name
/// in [`proxy`]: the struct, with `$type_doc` as its docs, and every method,
/// written once for [`Lock`] and [`RLock`].
macro_rules! blocking_lock {
    ($(#[$type_doc:meta])* pub struct $Lock:ident;) => {
        $(#[$type_doc])*
        #[derive(Debug, Clone)]
        pub struct $Lock {
            inner: proxy::$Lock,
            runtime: Runner,
        }

        impl $Lock {
            pub(crate) fn new(inner: proxy::$Lock, runtime: Runner) -> Self {
                $Lock { inner, runtime }
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
            pub fn as_async(&self) -> &proxy::$Lock {
                &self.inner
            }

            /// A handle on the same object whose calls time out after `timeout`.
            pub fn with_timeout(&self, timeout: Duration) -> Self {
                Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
            }

            #[doc = concat!("See [`proxy::", stringify!($Lock), "::acquire`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn acquire(&self) -> Result<(), Error> {
                self.runtime.run(self.inner.acquire_as(current_owner()))
            }

            #[doc = concat!("See [`proxy::", stringify!($Lock), "::acquire_timeout`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, Error> {
                let wait = Wait::from_timeout(Some(timeout));
                self.runtime
                    .run(self.inner.acquire_wait_as(current_owner(), wait))
            }

            #[doc = concat!("See [`proxy::", stringify!($Lock), "::try_acquire`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn try_acquire(&self) -> Result<bool, Error> {
                self.runtime
                    .run(self.inner.acquire_wait_as(current_owner(), Wait::No))
            }

            #[doc = concat!("See [`proxy::", stringify!($Lock), "::release`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn release(&self) -> Result<(), Error> {
                self.runtime.run(self.inner.release_as(current_owner()))
            }

            #[doc = concat!("See [`proxy::", stringify!($Lock), "::locked`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn locked(&self) -> Result<bool, Error> {
                self.runtime.run(self.inner.locked())
            }

            #[doc = concat!("See [`proxy::", stringify!($Lock), "::n_waiting`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn n_waiting(&self) -> Result<usize, Error> {
                self.runtime.run(self.inner.n_waiting())
            }

            #[doc = concat!("Takes the lock (as [`", stringify!($Lock), "::acquire`]) and returns a")]
            /// guard that releases the hold it took when dropped, before `drop`
            /// returns.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Lock), "::acquire`].")]
            pub fn lock(&self) -> Result<LockGuard, Error> {
                let owner = current_owner();
                self.runtime.run(self.inner.acquire_as(owner))?;
                Ok(LockGuard {
                    lock: Some(Held::$Lock(self.clone())),
                    owner,
                })
            }

            fn release_blocking(&self, owner: Owner) -> Result<(), Error> {
                self.runtime.run(self.inner.release_as(owner))
            }
        }
    };
}

blocking_lock! {
    /// The blocking handle of [`proxy::Lock`]: a lock one thread of one process
    /// holds at a time, which any thread of the holding process (not another
    /// process) may release.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = manager::Manager::start()?;
    /// let lock = manager.connect()?.lock("accounts")?;
    /// {
    ///     let _guard = lock.lock()?;
    ///     assert!(lock.locked()?);
    /// } // released here
    /// assert!(lock.try_acquire()?);
    /// lock.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct Lock;
}

blocking_lock! {
    /// The blocking handle of [`proxy::RLock`]: a lock its holding thread may
    /// take again, released only by that thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = manager::Manager::start()?;
    /// let lock = manager.connect()?.rlock("tree")?;
    /// let outer = lock.lock()?;
    /// let inner = lock.lock()?; // the holder takes it again
    /// drop(inner);
    /// assert!(lock.locked()?, "still held once");
    /// drop(outer);
    /// assert!(!lock.locked()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct RLock;
}

#[derive(Debug)]
enum Held {
    Lock(Lock),
    RLock(RLock),
}

/// Holds a blocking [`Lock`] or [`RLock`] (once) until dropped or released.
///
/// Dropping it releases the lock before `drop` returns, as the thread that
/// took it, even while unwinding from a panic. An error of that release is
/// logged (at debug level) and otherwise ignored; use
/// [`LockGuard::release`] to see it.
///
/// # Panics
///
/// Dropping it inside an async runtime panics, like every blocking call.
#[derive(Debug)]
#[must_use = "the lock is released when the guard is dropped"]
pub struct LockGuard {
    lock: Option<Held>,
    owner: Owner,
}

impl LockGuard {
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
        match self.lock.take() {
            Some(Held::Lock(lock)) => lock.release_blocking(self.owner),
            Some(Held::RLock(lock)) => lock.release_blocking(self.owner),
            None => Ok(()),
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Err(error) = self.release_now() {
            tracing::debug!(%error, "release from a dropped lock guard failed");
        }
    }
}

//! [`Semaphore`], [`BoundedSemaphore`]: the blocking proxies of a shared
//! counting semaphore, and [`SemaphoreGuard`], which gives its unit back
//! when dropped; see [`proxy::Semaphore`] and [`proxy::BoundedSemaphore`]
//! for what each method does.
//!
//! # What happens when a holder dies
//!
//! As with the async proxies: units held by **guards** come back when
//! their process dies, however it dies; units taken with a plain
//! `acquire` do **not** (another process may release them, as in Python).
//! A guard's unit is owned by the thread that took it.

use std::time::Duration;

use manager_core::request::Wait;
use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::Error;
use crate::proxy::{self, current_owner};

/// Defines a blocking semaphore handle type over the async one of the same
/// name in [`proxy`]: the struct, with `$type_doc` as its docs, and every
/// method, written once for [`Semaphore`] and [`BoundedSemaphore`].
macro_rules! blocking_semaphore {
    ($(#[$type_doc:meta])* pub struct $Semaphore:ident;) => {
        $(#[$type_doc])*
        #[derive(Debug, Clone)]
        pub struct $Semaphore {
            inner: proxy::$Semaphore,
            runtime: Runner,
        }

        impl $Semaphore {
            pub(crate) fn new(inner: proxy::$Semaphore, runtime: Runner) -> Self {
                $Semaphore { inner, runtime }
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
            pub fn as_async(&self) -> &proxy::$Semaphore {
                &self.inner
            }

            /// A handle on the same object whose calls time out after `timeout`.
            pub fn with_timeout(&self, timeout: Duration) -> Self {
                Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::acquire`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn acquire(&self) -> Result<(), Error> {
                self.runtime.run(self.inner.acquire())
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::acquire_timeout`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, Error> {
                self.runtime.run(self.inner.acquire_timeout(timeout))
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::try_acquire`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn try_acquire(&self) -> Result<bool, Error> {
                self.runtime.run(self.inner.try_acquire())
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::release`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn release(&self) -> Result<(), Error> {
                self.runtime.run(self.inner.release())
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::release_n`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn release_n(&self, n: u64) -> Result<(), Error> {
                self.runtime.run(self.inner.release_n(n))
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::value`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn value(&self) -> Result<u64, Error> {
                self.runtime.run(self.inner.value())
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::n_waiting`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn n_waiting(&self) -> Result<usize, Error> {
                self.runtime.run(self.inner.n_waiting())
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::guard`]: takes one unit for")]
            /// this thread and returns a guard that gives it back when dropped,
            /// before `drop` returns. The unit comes back if this process dies
            /// with the guard alive.
            ///
            /// # Errors
            ///
            /// As there.
            pub fn guard(&self) -> Result<SemaphoreGuard, Error> {
                let guard = self.runtime.run(self.inner.guard_as(current_owner()))?;
                Ok(SemaphoreGuard::new(guard, &self.runtime))
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::guard_timeout`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn guard_timeout(&self, timeout: Duration) -> Result<Option<SemaphoreGuard>, Error> {
                let wait = Wait::from_timeout(Some(timeout));
                let guard = self
                    .runtime
                    .run(self.inner.guard_wait_as(current_owner(), wait))?;
                Ok(guard.map(|guard| SemaphoreGuard::new(guard, &self.runtime)))
            }

            #[doc = concat!("See [`proxy::", stringify!($Semaphore), "::try_guard`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn try_guard(&self) -> Result<Option<SemaphoreGuard>, Error> {
                let guard = self
                    .runtime
                    .run(self.inner.guard_wait_as(current_owner(), Wait::No))?;
                Ok(guard.map(|guard| SemaphoreGuard::new(guard, &self.runtime)))
            }
        }
    };
}

blocking_semaphore! {
    /// The blocking handle of [`proxy::Semaphore`].
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = manager::Manager::start()?;
    /// let slots = manager.connect()?.semaphore("download-slots", 2)?;
    /// let _first = slots.guard()?;
    /// slots.acquire()?;
    /// assert_eq!(slots.value()?, 0);
    /// assert!(!slots.try_acquire()?);
    /// slots.release()?;
    /// assert_eq!(slots.value()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct Semaphore;
}

blocking_semaphore! {
    /// The blocking handle of [`proxy::BoundedSemaphore`]: releases past its
    /// bound are refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use manager::{Error, ManagerError};
    ///
    /// let manager = manager::Manager::start()?;
    /// let pool = manager.connect()?.bounded_semaphore("db-connections", 1)?;
    /// pool.acquire()?;
    /// pool.release()?;
    /// assert!(matches!(
    ///     pool.release(),
    ///     Err(Error::Manager(ManagerError::TooManyReleases { .. }))
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct BoundedSemaphore;
}

/// Holds one owned unit of a blocking [`Semaphore`] or [`BoundedSemaphore`]
/// until dropped or released; see [`proxy::SemaphoreGuard`].
///
/// Dropping it gives the unit back before `drop` returns, even while
/// unwinding from a panic. An error of that release is logged (at debug
/// level) and otherwise ignored; use [`SemaphoreGuard::release`] to see it.
///
/// # Panics
///
/// Dropping it inside an async runtime panics, like every blocking call.
#[derive(Debug)]
#[must_use = "the unit is given back when the guard is dropped"]
pub struct SemaphoreGuard {
    guard: Option<proxy::SemaphoreGuard>,
    runtime: Runner,
}

impl SemaphoreGuard {
    fn new(guard: proxy::SemaphoreGuard, runtime: &Runner) -> Self {
        SemaphoreGuard {
            guard: Some(guard),
            runtime: runtime.clone(),
        }
    }

    /// Gives the unit back now and returns the manager's answer.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn release(mut self) -> Result<(), Error> {
        self.release_now()
    }

    fn release_now(&mut self) -> Result<(), Error> {
        match self.guard.take() {
            Some(guard) => self.runtime.run(guard.release()),
            None => Ok(()),
        }
    }
}

impl Drop for SemaphoreGuard {
    fn drop(&mut self) {
        if let Err(error) = self.release_now() {
            tracing::debug!(%error, "release from a dropped semaphore guard failed");
        }
    }
}

//! [`Semaphore`], [`BoundedSemaphore`]: the async proxies of a shared
//! counting semaphore, with [`Client::semaphore`] and
//! [`Client::bounded_semaphore`], which find or create one, and
//! [`SemaphoreGuard`], which gives its unit back when dropped.
//!
//! # Plain units and guarded units
//!
//! `acquire`/`release` work as in Python: the semaphore only counts. Any
//! task, thread or process may release a unit, whoever took it, so a
//! semaphore of 0 can carry signals from one process to another, and a unit
//! taken here may be given back by another process.
//!
//! [`Semaphore::guard`] takes a unit *owned* by this task (or thread) of
//! this process: only the guard gives it back, and a plain `release` from
//! anywhere never does. On a [`BoundedSemaphore`] a guarded unit counts
//! against the bound while it is out, so a stray plain release cannot let
//! one more holder in.
//!
//! # What happens when a holder dies
//!
//! When a process ends, however it ends (SIGKILL included), the units its
//! **guards** held come back and go to whoever waits. Units it took with a
//! plain `acquire` (or `try_acquire`, `acquire_timeout`) do **not** come
//! back: the manager cannot tell them from units another process has
//! already released on its behalf, and giving them back could let two
//! holders in where there is room for one. Use a guard for a unit that must
//! not be lost with its process; use plain units for hand-offs and signals
//! between processes.

use std::future::Future;
use std::time::Duration;

use manager_core::ObjectSpec;
use manager_core::request::{Owner, SemaphoreRequest, Wait};

use super::handle::Proxy;
use super::lock::wait_cut_short;
use super::object::{ObjectRef, current_owner};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// Defines a semaphore proxy: its alias of [`Proxy`], with `$type_doc` as
/// its docs, and its methods, written once for [`Semaphore`] and
/// [`BoundedSemaphore`]. What differs between the two is said in their type
/// docs and in the `release` and `release_n` docs passed in.
macro_rules! semaphore_handle {
    (
        $(#[$type_doc:meta])*
        pub type $Semaphore:ident;
        release: { $(#[$release_doc:meta])* }
        release_n: { $(#[$release_n_doc:meta])* }
    ) => {
        $(#[$type_doc])*
        pub type $Semaphore<M = Async> = Proxy<marker::$Semaphore, M>;

        impl<M: Mode> $Semaphore<M> {
            /// Takes one unit, waiting as long as there is none (Python's
            /// `acquire()`).
            ///
            /// # Errors
            ///
            /// [`Error::Timeout`] on a handle with a timeout
            #[doc = concat!("([`", stringify!($Semaphore), "::with_timeout`])")]
            /// if no unit came that long, and the errors of every call.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if the future is dropped after the request went
            /// out and the manager grants the unit afterwards, the client
            /// releases it again as soon as the grant arrives.
            ///
            /// # What happens when this process dies
            ///
            /// A unit taken this way does not come back on its own; use
            #[doc = concat!("[`", stringify!($Semaphore), "::guard`] for one that does.")]
            pub fn acquire(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                acquire(&self.object).await
                })
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
            #[doc = concat!("As [`", stringify!($Semaphore), "::acquire`].")]
            pub fn acquire_timeout(&self, timeout: Duration) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(async move {
                acquire_wait(&self.object, Wait::from_timeout(Some(timeout))).await
                })
            }

            /// Takes one unit if there is one; returns whether it got one (Python's
            /// `acquire(blocking=False)`).
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn try_acquire(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(async move {
                acquire_wait(&self.object, Wait::No).await
                })
            }

            $(#[$release_doc])*
            pub fn release(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                release(&self.object, 1).await
                })
            }

            $(#[$release_n_doc])*
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Semaphore), "::release`].")]
            pub fn release_n(&self, n: u64) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                release(&self.object, n).await
                })
            }

            /// The units available now.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn value(&self) -> M::Answer<impl Future<Output = Result<u64, Error>>> {
                self.object.mode().answer(async move {
                value(&self.object).await
                })
            }

            /// How many acquires are waiting for a unit now.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn n_waiting(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
                self.object.mode().answer(async move {
                n_waiting(&self.object).await
                })
            }

            /// Takes one unit for this task (or thread), waiting as long as there is
            /// none, and returns a guard that gives it back when dropped (Python's
            /// `with semaphore:`).
            ///
            /// # What happens when this process dies
            ///
            /// The unit is owned: if this process dies with the guard alive, the
            /// manager gives the unit back and hands it to the next waiter. Only
            /// the guard gives it back otherwise; a plain
            #[doc = concat!("[`", stringify!($Semaphore), "::release`] never does.")]
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Semaphore), "::acquire`].")]
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if the future is dropped after the request went
            /// out and the manager grants the unit afterwards, the client gives
            /// it back as soon as the grant arrives.
            pub fn guard(&self) -> M::Answer<impl Future<Output = Result<SemaphoreGuard<M>, Error>>> {
                self.object.mode().answer(async move {
                guard(&self.object, current_owner()).await
                })
            }

            #[doc = concat!("As [`", stringify!($Semaphore), "::guard`], waiting at most `timeout`;")]
            /// `None` if no unit came.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            ///
            /// # Cancel safety
            ///
            #[doc = concat!("As [`", stringify!($Semaphore), "::guard`].")]
            pub fn guard_timeout(
                &self,
                timeout: Duration,
            ) -> M::Answer<impl Future<Output = Result<Option<SemaphoreGuard<M>>, Error>>> {
                self.object.mode().answer(async move {
                guard_wait(
                    &self.object,
                    current_owner(),
                    Wait::from_timeout(Some(timeout)),
                )
                .await
                })
            }

            #[doc = concat!("As [`", stringify!($Semaphore), "::guard`] if a unit is available now;")]
            /// `None` if not.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn try_guard(&self) -> M::Answer<impl Future<Output = Result<Option<SemaphoreGuard<M>>, Error>>> {
                self.object.mode().answer(async move {
                guard_wait(&self.object, current_owner(), Wait::No).await
                })
            }


        }
    };
}

kind_markers! {
    /// The kind of a [`Semaphore`](super::Semaphore) proxy: it sees
    /// semaphores.
    Semaphore => Semaphore;
    /// The kind of a [`BoundedSemaphore`](super::BoundedSemaphore) proxy: it
    /// sees bounded semaphores.
    BoundedSemaphore => BoundedSemaphore;
}

semaphore_handle! {
    /// A handle on a shared counting semaphore, like Python's
    /// `Manager().Semaphore()`.
    ///
    /// It starts with the units it was created with; an acquire takes one,
    /// waiting in arrival order while there is none, and a release gives units
    /// back (any number, even past the initial value; see
    /// [`BoundedSemaphore`] for one that refuses that).
    ///
    /// Units taken with [`Semaphore::guard`] come back if this process dies;
    /// units taken with [`Semaphore::acquire`] do not: any process may release
    /// a plain unit, so the manager cannot tell whether a dead process's plain
    /// unit was already released for it.
    ///
    /// It has the methods every [`Proxy`] has as well: [`name`](Proxy::name),
    /// [`id`](Proxy::id), [`kind`](Proxy::kind),
    /// [`with_timeout`](Proxy::with_timeout) and [`share`](Proxy::share).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let manager = manager::Manager::start()?;
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
    pub type Semaphore;
    release: {
        /// Gives one unit back (Python's `release()`). Any task or process may,
        /// whoever took the unit. It never gives back a guard's unit: that is
        /// the guard's to give back.
        ///
        /// # Errors
        ///
        /// [`ManagerError::TooManyReleases`](crate::ManagerError::TooManyReleases)
        /// if the value would overflow `u64`, and the errors of every call.
    }
    release_n: {
        /// Gives `n` units back at once (Python's `release(n)`); `n = 0` changes
        /// nothing.
    }
}

semaphore_handle! {
    /// A handle on a shared semaphore that refuses releases past its initial
    /// value, like Python's `Manager().BoundedSemaphore()`.
    ///
    /// A release that would take the value past the bound fails with
    /// [`ManagerError::TooManyReleases`](crate::ManagerError::TooManyReleases)
    /// and changes nothing, so a stray extra release shows up as an error
    /// instead of quietly letting one more holder in. Units out under guards
    /// count against the bound too.
    ///
    /// Units taken with [`BoundedSemaphore::guard`] come back if this process
    /// dies; units taken with [`BoundedSemaphore::acquire`] do not, as with
    /// [`Semaphore`].
    ///
    /// It has the methods every [`Proxy`] has as well: [`name`](Proxy::name),
    /// [`id`](Proxy::id), [`kind`](Proxy::kind),
    /// [`with_timeout`](Proxy::with_timeout) and [`share`](Proxy::share).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let manager = manager::Manager::start()?;
    /// # let client = manager.connect_async().await?;
    /// use manager::{Error, ManagerError};
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
    pub type BoundedSemaphore;
    release: {
        /// Gives one unit back. Any task or process may, whoever took the unit;
        /// it never gives back a guard's unit.
        ///
        /// # Errors
        ///
        /// [`ManagerError::TooManyReleases`](crate::ManagerError::TooManyReleases)
        /// if the units available plus those out under guards would pass the
        /// bound (nothing changes then), and the errors of every call.
    }
    release_n: {
        /// Gives `n` units back at once, or none if that would pass the bound.
    }
}

/// Holds one owned unit of a [`Semaphore`] or [`BoundedSemaphore`] until
/// dropped or released.
///
/// The unit belongs to the task (or thread) that took it, of this process;
/// the guard gives it back as that owner, from whichever task drops it. If
/// the process dies first, the manager gives it back.
///
/// Dropping a blocking guard gives the unit back before `drop` returns;
/// dropping an async one sends the release without waiting for the answer
/// (a `drop` cannot wait), in order with this connection's later requests.
/// Use [`SemaphoreGuard::release`] to wait for it and see its error.
///
/// # Panics
///
/// Dropping a blocking one inside an async runtime panics, like every
/// blocking call.
#[derive(Debug)]
#[must_use = "the unit is given back when the guard is dropped"]
pub struct SemaphoreGuard<M: Mode = Async> {
    object: ObjectRef<M>,
    owner: Owner,
    held: bool,
}

impl<M: Mode> SemaphoreGuard<M> {
    /// Gives the unit back and waits for the manager's answer.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn release(mut self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().clone().answer(async move {
            self.held = false;
            release_owned(&self.object, self.owner).await
        })
    }
}

impl<M: Mode> Drop for SemaphoreGuard<M> {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        // As a lock guard: a blocking one releases before `drop` returns.
        let release = SemaphoreRequest::release_owned(self.owner, 1);
        let result = match self
            .object
            .mode()
            .run_here(self.object.call_done(release.clone()))
        {
            Some(result) => result,
            None => self.object.send_detached(release),
        };
        if let Err(error) = result {
            tracing::debug!(
                semaphore = %self.object.what(),
                %error,
                "release from a dropped guard failed"
            );
        }
    }
}

async fn guard<M: Mode>(object: &ObjectRef<M>, owner: Owner) -> Result<SemaphoreGuard<M>, Error> {
    match guard_wait(object, owner, Wait::Forever).await? {
        Some(guard) => Ok(guard),
        None => Err(wait_cut_short(object)),
    }
}

async fn guard_wait<M: Mode>(
    object: &ObjectRef<M>,
    owner: Owner,
    wait: Wait,
) -> Result<Option<SemaphoreGuard<M>>, Error> {
    let granted = object
        .ask(SemaphoreRequest::acquire_owned(owner, wait))
        .await?;
    Ok(granted.then(|| SemaphoreGuard {
        object: object.clone(),
        owner,
        held: true,
    }))
}

async fn release_owned<M: Mode>(object: &ObjectRef<M>, owner: Owner) -> Result<(), Error> {
    object
        .call_done(SemaphoreRequest::release_owned(owner, 1))
        .await
}

async fn n_waiting<M: Mode>(object: &ObjectRef<M>) -> Result<usize, Error> {
    let n = object.ask(SemaphoreRequest::n_waiting()).await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

async fn acquire<M: Mode>(object: &ObjectRef<M>) -> Result<(), Error> {
    if acquire_wait(object, Wait::Forever).await? {
        Ok(())
    } else {
        Err(wait_cut_short(object))
    }
}

async fn acquire_wait<M: Mode>(object: &ObjectRef<M>, wait: Wait) -> Result<bool, Error> {
    object.ask(SemaphoreRequest::acquire(wait)).await
}

async fn release<M: Mode>(object: &ObjectRef<M>, n: u64) -> Result<(), Error> {
    object.call_done(SemaphoreRequest::release(n)).await
}

async fn value<M: Mode>(object: &ObjectRef<M>) -> Result<u64, Error> {
    object.ask(SemaphoreRequest::value()).await
}

impl<M: Mode> Client<M> {
    /// Finds the semaphore `name`, or creates it with `value` units.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn semaphore(
        &self,
        name: &str,
        value: u64,
    ) -> M::Answer<impl Future<Output = Result<Semaphore<M>, Error>>> {
        self.mode().answer(async move {
            Ok(Proxy::new(
                self.object_in(name, ObjectSpec::Semaphore { value })
                    .await?,
            ))
        })
    }

    /// Finds the bounded semaphore `name`, or creates it with `value` units.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn bounded_semaphore(
        &self,
        name: &str,
        value: u64,
    ) -> M::Answer<impl Future<Output = Result<BoundedSemaphore<M>, Error>>> {
        self.mode().answer(async move {
            let spec = ObjectSpec::BoundedSemaphore { value };
            Ok(Proxy::new(self.object_in(name, spec).await?))
        })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared semaphore; see [`proxy::Semaphore`](super::Semaphore).
    pub type Semaphore = super::Semaphore<Blocking>;
    /// A shared bounded semaphore; see [`proxy::BoundedSemaphore`](super::BoundedSemaphore).
    pub type BoundedSemaphore = super::BoundedSemaphore<Blocking>;
    /// A held semaphore unit, released when dropped; see
    /// [`proxy::SemaphoreGuard`](super::SemaphoreGuard).
    pub type SemaphoreGuard = super::SemaphoreGuard<Blocking>;
}

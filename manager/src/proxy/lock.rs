//! [`Lock`], [`RLock`]: the async proxies of a shared lock and re-entrant
//! lock, with [`Client::lock`] and [`Client::rlock`], which find or create
//! one, and [`LockGuard`], which releases when dropped.
//!
//! # Owners
//!
//! A lock is held by an owner: this connection plus the tokio task (or the
//! thread, outside a task) that acquired it ([`current_owner`]). A guard
//! remembers the owner that acquired it and releases as that owner, from
//! whichever task drops it.
//!
//! # What happens when a holder dies
//!
//! When the holding process ends, however it ends (SIGKILL included), its
//! connection closes and the manager releases the lock and hands it to the
//! next waiter. Python's manager keeps such a lock held and every other
//! process deadlocks.
//!
//! That is why a [`Lock`] may be released only from the process that holds
//! it (any of its tasks or threads), not from another process as Python
//! allows: a release sent for a holder that has just died would otherwise
//! free the lock of whoever got it next.

use std::future::Future;
use std::time::Duration;

use manager_core::ObjectSpec;
use manager_core::request::{Call, LockRequest, Owner, Wait};

use super::handle::Proxy;
use super::object::{ObjectRef, current_owner};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// Defines a lock proxy: its alias of [`Proxy`], with `$type_doc` as its
/// docs, and its methods, written once for [`Lock`] and [`RLock`]. What
/// differs between the two is said in their type docs and in the
/// `acquire`, `try_acquire` and `release` docs passed in.
macro_rules! lock_handle {
    (
        $(#[$type_doc:meta])*
        pub type $Lock:ident;
        acquire: { $(#[$acquire_doc:meta])* }
        try_acquire: { $(#[$try_acquire_doc:meta])* }
        release: { $(#[$release_doc:meta])* }
    ) => {
        $(#[$type_doc])*
        pub type $Lock<M = Async> = Proxy<marker::$Lock, M>;

        impl<M: Mode> $Lock<M> {
            $(#[$acquire_doc])*
            ///
            /// # Errors
            ///
            /// [`Error::Timeout`] on a handle with a timeout
            #[doc = concat!("([`", stringify!($Lock), "::with_timeout`])")]
            /// if the lock stayed held that long, and the errors of every
            /// call.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if the future is dropped after the request went
            /// out and the manager grants the lock afterwards, the client
            /// releases it again as soon as the grant arrives.
            pub fn acquire(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                acquire(&self.object, current_owner()).await
                })
            }

            /// Takes the lock, waiting at most `timeout`; returns whether it was
            /// taken (Python's `acquire(timeout=...)`). The manager's clock ends the
            /// wait, so a lock is never granted to a caller that gave up.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            ///
            /// # Cancel safety
            ///
            #[doc = concat!("As [`", stringify!($Lock), "::acquire`].")]
            pub fn acquire_timeout(&self, timeout: Duration) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(async move {
                acquire_wait(
                    &self.object,
                    current_owner(),
                    Wait::from_timeout(Some(timeout)),
                )
                .await
                })
            }

            $(#[$try_acquire_doc])*
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn try_acquire(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(async move {
                acquire_wait(&self.object, current_owner(), Wait::No).await
                })
            }

            $(#[$release_doc])*
            pub fn release(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                release(&self.object, current_owner()).await
                })
            }

            /// Whether anyone holds the lock now (Python's `locked()`).
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn locked(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(async move {
                locked(&self.object).await
                })
            }

            /// How many acquires are waiting for the lock now.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn n_waiting(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
                self.object.mode().answer(async move {
                n_waiting(&self.object).await
                })
            }

            #[doc = concat!("Takes the lock (as [`", stringify!($Lock), "::acquire`]) and returns a")]
            /// guard that releases the hold it took when dropped (Python's
            /// `with lock:`).
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Lock), "::acquire`].")]
            ///
            /// # Cancel safety
            ///
            #[doc = concat!("As [`", stringify!($Lock), "::acquire`].")]
            pub fn lock(&self) -> M::Answer<impl Future<Output = Result<LockGuard<M>, Error>>> {
                self.object.mode().answer(async move {
                guard(&self.object).await
                })
            }



        }
    };
}

kind_markers! {
    /// The kind of a [`Lock`](super::Lock) proxy: it sees locks.
    Lock => Lock;
    /// The kind of an [`RLock`](super::RLock) proxy: it sees re-entrant
    /// locks.
    RLock => RLock;
}

lock_handle! {
    /// A handle on a shared lock, like Python's `Manager().Lock()`.
    ///
    /// One owner (task or thread of a process) holds it at a time; the others
    /// wait in arrival order. Like Python's `threading.Lock` it is not
    /// re-entrant (its holder acquiring it again waits like anyone else), and
    /// another task or thread than the one that took it may release it, but
    /// only one of the holding process: a release from another process, meant
    /// for a holder that has just died, would otherwise free the lock of
    /// whoever got it next. Use [`RLock`] for a lock only its holder releases.
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
    /// let lock = client.lock("accounts").await?;
    /// {
    ///     let _guard = lock.lock().await?;
    ///     assert!(lock.locked().await?);
    ///     assert!(!lock.try_acquire().await?, "held, even by us");
    /// } // released here
    /// assert!(lock.try_acquire().await?);
    /// lock.release().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub type Lock;
    acquire: {
        /// Takes the lock, waiting as long as another owner holds it (Python's
        /// `acquire()`).
    }
    try_acquire: {
        /// Takes the lock if it is free; returns whether it was taken (Python's
        /// `acquire(blocking=False)`).
    }
    release: {
        /// Releases the lock. Any task or thread of the holding process may,
        /// as with Python's `threading.Lock` within one process; another
        /// process may not.
        ///
        /// # Errors
        ///
        /// [`ManagerError::NotHeld`](crate::ManagerError::NotHeld) if nobody
        /// holds it or another process does (nothing changes then), and the
        /// errors of every call.
    }
}

lock_handle! {
    /// A handle on a shared re-entrant lock, like Python's `Manager().RLock()`.
    ///
    /// Its holder (an owner: a task or thread of one process) may take it again
    /// at once; it is free when the holder has released it as many times as it
    /// took it. Only the holder may release it. Two tasks or threads of one
    /// process are two owners and exclude each other.
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
    /// let lock = client.rlock("tree").await?;
    /// let outer = lock.lock().await?;
    /// let inner = lock.lock().await?; // the holder takes it again
    /// drop(inner);
    /// assert!(lock.locked().await?, "still held once");
    /// outer.release().await?;
    /// assert!(!lock.locked().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub type RLock;
    acquire: {
        /// Takes the lock, at once if this owner holds it already, else waiting
        /// as long as another owner holds it.
    }
    try_acquire: {
        /// Takes the lock if it is free or held by this owner; returns whether
        /// it was taken.
    }
    release: {
        /// Releases the lock once.
        ///
        /// # Errors
        ///
        /// [`ManagerError::NotHeld`](crate::ManagerError::NotHeld) if this
        /// owner does not hold it, and the errors of every call.
    }
}

/// Holds a [`Lock`] or [`RLock`] (once) until dropped or released.
///
/// Dropping a blocking guard releases the lock before `drop` returns, even
/// while unwinding from a panic. Dropping an async one sends the release
/// without waiting for the answer (a `drop` cannot wait); the release is
/// ordered with this connection's later requests, so a later acquire from
/// this process comes after it. Either way an error of that release is
/// logged (at debug level); use [`LockGuard::release`] to see it.
///
/// # Panics
///
/// Dropping a blocking one inside an async runtime panics, like every
/// blocking call.
#[derive(Debug)]
#[must_use = "the lock is released when the guard is dropped"]
pub struct LockGuard<M: Mode = Async>(Held<M>);

impl<M: Mode> LockGuard<M> {
    /// Releases the lock and waits for the manager's answer.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotHeld`](crate::ManagerError::NotHeld) if it was
    /// released meanwhile by other means, and the errors of every call.
    pub fn release(self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.0.release()
    }
}

/// What a lock's and a condition's guard share: the owner's hold on one
/// object's lock, released by `release` when the guard goes.
#[derive(Debug)]
pub(super) struct Held<M: Mode> {
    object: ObjectRef<M>,
    owner: Owner,
    /// The call that releases the hold once, for the kind.
    release: fn(Owner) -> Call<()>,
    held: bool,
}

impl<M: Mode> Held<M> {
    /// The hold `owner` has just taken on `object`.
    pub(super) fn new(object: &ObjectRef<M>, owner: Owner, release: fn(Owner) -> Call<()>) -> Self {
        Held {
            object: object.clone(),
            owner,
            release,
            held: true,
        }
    }

    /// Releases the hold and waits for the manager's answer.
    pub(super) fn release(mut self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().clone().answer(async move {
            self.held = false;
            self.object.call_done((self.release)(self.owner)).await
        })
    }
}

impl<M: Mode> Drop for Held<M> {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        // A blocking guard releases before `drop` returns; an async one
        // sends the release, in order with the connection's later requests.
        let call = (self.release)(self.owner);
        let result = match self
            .object
            .mode()
            .run_here(self.object.call_done(call.clone()))
        {
            Some(result) => result,
            None => self.object.send_detached(call),
        };
        if let Err(error) = result {
            tracing::debug!(object = %self.object.what(), %error, "release from a dropped guard failed");
        }
    }
}

async fn guard<M: Mode>(object: &ObjectRef<M>) -> Result<LockGuard<M>, Error> {
    let owner = current_owner();
    acquire(object, owner).await?;
    Ok(LockGuard(Held::new(object, owner, LockRequest::release)))
}

async fn acquire<M: Mode>(object: &ObjectRef<M>, owner: Owner) -> Result<(), Error> {
    if acquire_wait(object, owner, Wait::Forever).await? {
        Ok(())
    } else {
        Err(wait_cut_short(object))
    }
}

async fn acquire_wait<M: Mode>(
    object: &ObjectRef<M>,
    owner: Owner,
    wait: Wait,
) -> Result<bool, Error> {
    object.ask(LockRequest::acquire(owner, wait)).await
}

async fn release<M: Mode>(object: &ObjectRef<M>, owner: Owner) -> Result<(), Error> {
    object.call_done(LockRequest::release(owner)).await
}

async fn locked<M: Mode>(object: &ObjectRef<M>) -> Result<bool, Error> {
    object.ask(LockRequest::is_locked()).await
}

async fn n_waiting<M: Mode>(object: &ObjectRef<M>) -> Result<usize, Error> {
    let n = object.ask(LockRequest::n_waiting()).await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The error of a wait without a limit that the manager ended anyway: the
/// handle's own timeout cut it short.
pub(super) fn wait_cut_short<M: Mode>(object: &ObjectRef<M>) -> Error {
    match object.client().timeout() {
        Some(after) => Error::Timeout { after },
        None => object.protocol_error("a wait without a limit ended unanswered"),
    }
}

impl<M: Mode> Client<M> {
    /// Finds or creates the lock `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn lock(&self, name: &str) -> M::Answer<impl Future<Output = Result<Lock<M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.object_in(name, ObjectSpec::Lock).await?)) })
    }

    /// Finds or creates the re-entrant lock `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn rlock(&self, name: &str) -> M::Answer<impl Future<Output = Result<RLock<M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.object_in(name, ObjectSpec::RLock).await?)) })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared lock; see [`proxy::Lock`](super::Lock).
    pub type Lock = super::Lock<Blocking>;
    /// A shared re-entrant lock; see [`proxy::RLock`](super::RLock).
    pub type RLock = super::RLock<Blocking>;
    /// A held lock, released when dropped; see [`proxy::LockGuard`](super::LockGuard).
    pub type LockGuard = super::LockGuard<Blocking>;
}

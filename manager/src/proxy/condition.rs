//! [`Condition`]: the async proxy of a shared condition variable with its
//! own re-entrant lock, with [`Client::condition`], which finds or creates
//! one, and [`ConditionGuard`], which releases the lock when dropped.
//!
//! # Waiting and notifying
//!
//! As in Python, `wait` and `notify` need the condition's lock: a waiter
//! holds it, `wait` releases it (however many times this owner took it)
//! while waiting, and takes it back before returning, whether it was
//! notified or its wait ended. Wake-ups come in order: `notify(n)` wakes the
//! `n` longest-waiting. A woken waiter then queues for the lock behind
//! whoever asked for it before, so it must check its condition again; use
//! [`Condition::wait_for`], which loops for you.
//!
//! # What happens when a holder dies
//!
//! When a process ends, however it ends, its waits are dropped and, if it
//! held the lock, the lock is released and handed to the next in line. A
//! notify that picked one of its waits before it died is not lost: it wakes
//! the longest-waiting live waiter instead, if there is one.

use std::future::Future;
use std::time::{Duration, Instant};

use manager_core::ObjectSpec;
use manager_core::request::{ConditionRequest, Owner, Wait};

use super::handle::Proxy;
use super::lock::{Held, wait_cut_short};
use super::object::{ObjectRef, current_owner};
use crate::mode::{Async, Blocking, Mode};
use crate::{Client, Error};

/// A handle on a shared condition variable with its own lock, like Python's
/// `Manager().Condition()`.
///
/// The lock is re-entrant and held by an owner: this connection plus the
/// task (or thread) that acquired it ([`current_owner`]).
///
/// It has the methods every [`Proxy`] has as well: [`name`](Proxy::name),
/// [`id`](Proxy::id), [`kind`](Proxy::kind),
/// [`with_timeout`](Proxy::with_timeout) and [`share`](Proxy::share).
///
/// # Examples
///
/// One task waits until another has set a flag:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let manager = manager::Manager::start()?;
/// # let client = manager.connect_async().await?;
/// use std::time::Duration;
///
/// let ready = client.condition("ready").await?;
/// let flags = client.namespace("flags").await?;
/// let setter = {
///     let (ready, flags) = (ready.clone(), flags.clone());
///     tokio::spawn(async move {
///         let _guard = ready.guard().await?;
///         flags.set("done", &true).await?;
///         ready.notify_all().await
///     })
/// };
/// let guard = ready.guard().await?;
/// let done = ready
///     .wait_for_async(
///         || async { Ok(flags.try_get::<bool>("done").await?.unwrap_or(false)) },
///         Some(Duration::from_secs(10)),
///     )
///     .await?;
/// assert!(done);
/// drop(guard);
/// setter.await??;
/// # Ok(())
/// # }
/// ```
pub type Condition<M = Async> = Proxy<marker::Condition, M>;

kind_markers! {
    /// The kind of a [`Condition`](super::Condition) proxy: it sees conditions.
    Condition => Condition;
}

impl<M: Mode> Condition<M> {
    /// Takes the condition's lock, at once if this owner holds it already,
    /// else waiting as long as another owner holds it.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] on a handle with a timeout
    /// ([`Condition::with_timeout`]) if the lock stayed held that long, and
    /// the errors of every call.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped after the request went out
    /// and the manager grants the lock afterwards, the client releases it
    /// again as soon as the grant arrives.
    pub fn acquire(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { acquire(&self.object, current_owner()).await })
    }

    /// Takes the lock, waiting at most `timeout`; returns whether it was
    /// taken.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    ///
    /// # Cancel safety
    ///
    /// As [`Condition::acquire`].
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object.mode().answer(async move {
            acquire_wait(
                &self.object,
                current_owner(),
                Wait::from_timeout(Some(timeout)),
            )
            .await
        })
    }

    /// Takes the lock if it is free or held by this owner; returns whether
    /// it was taken.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn try_acquire(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { acquire_wait(&self.object, current_owner(), Wait::No).await })
    }

    /// Releases the lock once.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotHeld`](crate::ManagerError::NotHeld) if this
    /// owner does not hold it, and the errors of every call.
    pub fn release(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { release(&self.object, current_owner()).await })
    }

    /// Takes the lock (as [`Condition::acquire`]) and returns a guard that
    /// releases it once when dropped (Python's `with condition:`).
    ///
    /// # Errors
    ///
    /// As [`Condition::acquire`].
    ///
    /// # Cancel safety
    ///
    /// As [`Condition::acquire`].
    pub fn guard(&self) -> M::Answer<impl Future<Output = Result<ConditionGuard<M>, Error>>> {
        self.object.mode().answer(async move {
            let owner = current_owner();
            acquire(&self.object, owner).await?;
            Ok(ConditionGuard(Held::new(
                &self.object,
                owner,
                ConditionRequest::release,
            )))
        })
    }

    /// Releases the lock, waits for a notify and takes the lock back as it
    /// was (Python's `wait()`). Returns `true`, or `false` if this handle's
    /// timeout ([`Condition::with_timeout`]) ended the wait first.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotHeld`](crate::ManagerError::NotHeld) if this
    /// owner does not hold the lock, and the errors of every call. On a
    /// handle with a timeout, taking the lock back may outlast the call's
    /// deadline ([`Error::Timeout`]); the wait is then given up as below,
    /// and the owner no longer holds the lock.
    ///
    /// # Cancel safety
    ///
    /// A dropped wait is taken back from the manager if it is still
    /// parked; if it had taken the lock back already (its grant on its
    /// way), the manager gives back the holds it took back when the cancel
    /// arrives, before this owner's next request, and passes on the
    /// notify it consumed. So the owner no longer holds the lock through
    /// this wait (a guard it holds then releases nothing), while an
    /// acquire it makes afterwards is its own and stays held; the late
    /// reply's give-back (`ConditionRequest::GiveBack`, naming the wait)
    /// then changes nothing. (A wait of zero, [`Condition::wait_timeout`]
    /// with [`Duration::ZERO`], is not taken back: its grant is given back
    /// when the late reply arrives, after this owner's later requests; a
    /// release among them uses up the holds the wait took back first, and
    /// an acquire stays held.)
    pub fn wait(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { wait(&self.object, current_owner(), Wait::Forever).await })
    }

    /// As [`Condition::wait`], but waits for a notify at most `timeout`
    /// (Python's `wait(timeout)`). Returns whether it was notified; either
    /// way the lock is held again when it returns.
    ///
    /// # Errors
    ///
    /// As [`Condition::wait`].
    ///
    /// # Cancel safety
    ///
    /// As [`Condition::wait`].
    pub fn wait_timeout(
        &self,
        timeout: Duration,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object.mode().answer(async move {
            wait(
                &self.object,
                current_owner(),
                Wait::from_timeout(Some(timeout)),
            )
            .await
        })
    }

    /// As [`Condition::wait_for`], with a predicate that awaits (for
    /// example reads a shared namespace); its error ends the wait.
    ///
    /// # Errors
    ///
    /// The predicate's errors, and as [`Condition::wait`].
    ///
    /// # Cancel safety
    ///
    /// As [`Condition::wait`].
    pub fn wait_for_async<F, Fut>(
        &self,
        predicate: F,
        timeout: Option<Duration>,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool, Error>>,
    {
        self.object.mode().answer(async move {
            wait_for(&self.object, current_owner(), predicate, timeout).await
        })
    }

    /// Wakes up to `n` waiters, the longest-waiting first (Python's
    /// `notify(n)`); returns how many it woke. Each takes the lock back
    /// after this owner releases it.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotHeld`](crate::ManagerError::NotHeld) if this
    /// owner does not hold the lock, and the errors of every call.
    pub fn notify(&self, n: u64) -> M::Answer<impl Future<Output = Result<u64, Error>>> {
        self.object
            .mode()
            .answer(async move { notify(&self.object, current_owner(), n).await })
    }

    /// Wakes every waiter (Python's `notify_all()`); returns how many.
    ///
    /// # Errors
    ///
    /// As [`Condition::notify`].
    pub fn notify_all(&self) -> M::Answer<impl Future<Output = Result<u64, Error>>> {
        self.object
            .mode()
            .answer(async move { notify_all(&self.object, current_owner()).await })
    }

    /// How many calls are waiting on the condition now: waits for a
    /// notify and acquires of its lock. Needs no hold of the lock.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn n_waiting(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object.mode().answer(async move {
            let n = self.object.ask(ConditionRequest::n_waiting()).await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }
}

impl Condition {
    /// Waits until `predicate` holds (Python's `wait_for`): checks it, and
    /// while it is false waits for a notify and checks again, at most
    /// `timeout` in all (`None`: no limit). Returns the predicate's last
    /// value. The predicate runs here, in this process, with the lock held.
    ///
    /// A predicate that must read shared objects (awaiting their proxies)
    /// goes to [`Condition::wait_for_async`].
    ///
    /// # Errors
    ///
    /// As [`Condition::wait`].
    ///
    /// # Cancel safety
    ///
    /// As [`Condition::wait`].
    pub async fn wait_for(
        &self,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool, Error> {
        let ready = || std::future::ready(Ok(predicate()));
        wait_for(&self.object, current_owner(), ready, timeout).await
    }
}

impl Condition<Blocking> {
    /// Waits until `predicate` holds (Python's `wait_for`), as the async
    /// [`Condition::wait_for`] does; the predicate runs on this thread
    /// between waits, not inside the client's runtime, so it may use other
    /// blocking proxies.
    ///
    /// # Errors
    ///
    /// As [`Condition::wait`].
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
            let left = remaining(start, timeout);
            if left == Some(Duration::ZERO) {
                return Ok(false);
            }
            let waited = wait(&self.object, owner, Wait::from_timeout(left));
            self.object.mode().run(waited)?;
        }
    }
}

/// Holds a [`Condition`]'s lock (once) until dropped or released.
///
/// Dropping a blocking guard releases the lock before `drop` returns;
/// dropping an async one sends the release without waiting for the answer
/// (a `drop` cannot wait), in order with this connection's later requests.
/// Use [`ConditionGuard::release`] to wait for it and see its error.
///
/// # Panics
///
/// Dropping a blocking one inside an async runtime panics, like every
/// blocking call.
#[derive(Debug)]
#[must_use = "the lock is released when the guard is dropped"]
pub struct ConditionGuard<M: Mode = Async>(Held<M>);

impl<M: Mode> ConditionGuard<M> {
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

/// What is left of `timeout` started at `start`: `None` without a limit,
/// `Some(ZERO)` once it has run out.
fn remaining(start: Instant, timeout: Option<Duration>) -> Option<Duration> {
    timeout.map(|t| t.saturating_sub(start.elapsed()))
}

async fn wait_for<M: Mode, F, Fut>(
    object: &ObjectRef<M>,
    owner: Owner,
    mut predicate: F,
    timeout: Option<Duration>,
) -> Result<bool, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    let start = Instant::now();
    loop {
        if predicate().await? {
            return Ok(true);
        }
        let left = remaining(start, timeout);
        if left == Some(Duration::ZERO) {
            return Ok(false);
        }
        wait(object, owner, Wait::from_timeout(left)).await?;
    }
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
    object.ask(ConditionRequest::acquire(owner, wait)).await
}

async fn release<M: Mode>(object: &ObjectRef<M>, owner: Owner) -> Result<(), Error> {
    object.call_done(ConditionRequest::release(owner)).await
}

async fn wait<M: Mode>(object: &ObjectRef<M>, owner: Owner, wait: Wait) -> Result<bool, Error> {
    let woken = object.ask(ConditionRequest::wait(owner, wait)).await?;
    Ok(woken.notified)
}

async fn notify<M: Mode>(object: &ObjectRef<M>, owner: Owner, n: u64) -> Result<u64, Error> {
    object.ask(ConditionRequest::notify(owner, n)).await
}

async fn notify_all<M: Mode>(object: &ObjectRef<M>, owner: Owner) -> Result<u64, Error> {
    object.ask(ConditionRequest::notify_all(owner)).await
}

impl<M: Mode> Client<M> {
    /// Finds or creates the condition `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn condition(
        &self,
        name: &str,
    ) -> M::Answer<impl Future<Output = Result<Condition<M>, Error>>> {
        self.mode().answer(async move {
            Ok(Proxy::new(
                self.object_in(name, ObjectSpec::Condition).await?,
            ))
        })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared condition; see [`proxy::Condition`](super::Condition).
    pub type Condition = super::Condition<Blocking>;
    /// A condition's held lock, released when dropped; see
    /// [`proxy::ConditionGuard`](super::ConditionGuard).
    pub type ConditionGuard = super::ConditionGuard<Blocking>;
}

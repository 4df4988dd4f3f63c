//! [`Event`]: the async proxy of a shared flag processes wait for, like
//! Python's `Manager().Event()`, and [`Client::event`], which finds or
//! creates one.
//!
//! The [`Event`] type's docs say how waiting and dead workers work.

use std::future::Future;
use std::time::Duration;

use manager_core::ObjectSpec;
use manager_core::request::{EventRequest, Wait};

use super::handle::Proxy;
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on a shared flag processes wait for, like Python's
/// `Manager().Event()`.
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
/// use std::time::Duration;
///
/// # let manager = manager::Manager::start()?;
/// # let client = manager.connect_async().await?;
/// let ready = client.event("ready").await?;
/// assert!(!ready.wait_timeout(Duration::from_millis(10)).await?);
///
/// // Another task (or process) waits for the flag...
/// let waiter = tokio::spawn({
///     let ready = ready.clone();
///     async move { ready.wait().await }
/// });
/// // ...and is released when it goes up.
/// ready.set().await?;
/// assert!(waiter.await??);
/// assert!(ready.is_set().await?);
/// # Ok(())
/// # }
/// ```
///
/// # Waiting
///
/// [`Event::wait`] parks in the manager (never blocking it) until some
/// process calls [`Event::set`]; every waiter is then released at once. On a
/// handle made with `with_timeout(d)`, a wait lasts at most `d` and answers
/// `false` when it ends, as a [`Event::wait_timeout`] does; see
/// [`Queue`](super::Queue#waiting) for the details.
///
/// # What happens when a worker dies
///
/// Its waits are dropped; the flag stays as it is.
pub type Event<M = Async> = Proxy<marker::Event, M>;

kind_markers! {
    /// The kind of an [`Event`](super::Event) proxy: it sees events.
    Event => Event;
}

impl<M: Mode> Event<M> {
    /// Raises the flag and releases every waiter (Python's `set()`).
    ///
    /// # Errors
    ///
    /// The errors of every call (see [`Client::call`](crate::Client::call)).
    pub fn set(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_done(EventRequest::set()).await })
    }

    /// Lowers the flag (Python's `clear()`); later waits wait again.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn clear(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_done(EventRequest::clear()).await })
    }

    /// Whether the flag is up (Python's `is_set()`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn is_set(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.ask(EventRequest::is_set()).await })
    }

    /// How many waits are parked on the event now.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn n_waiting(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object.mode().answer(async move {
            let n = self.object.ask(EventRequest::n_waiting()).await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    /// Waits until the flag is up (Python's `wait()`) and returns `true`;
    /// `false` only on a handle with a timeout, when that passed first.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped wait changes nothing.
    pub fn wait(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { self.wait_within(None).await })
    }

    /// Waits at most `timeout` until the flag is up (Python's
    /// `wait(timeout)`); returns whether it is. A zero timeout does not wait.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub fn wait_timeout(
        &self,
        timeout: Duration,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { self.wait_within(Some(timeout)).await })
    }

    async fn wait_within(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let wait = Wait::from_timeout(timeout);
        self.object.ask(EventRequest::wait(wait)).await
    }
}

impl<M: Mode> Client<M> {
    /// Finds or creates the event `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn event(&self, name: &str) -> M::Answer<impl Future<Output = Result<Event<M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.object_in(name, ObjectSpec::Event).await?)) })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared event; see [`proxy::Event`](super::Event).
    pub type Event = super::Event<Blocking>;
}

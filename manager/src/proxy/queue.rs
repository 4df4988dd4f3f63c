//! [`Queue`], [`JoinableQueue`]: the async proxies of a shared FIFO queue of
//! `T`s, like Python's `Manager().Queue()` and `Manager().JoinableQueue()`,
//! with [`Client::queue`] and [`Client::joinable_queue`], which find or
//! create one, and [`Delivery`], an item taken with a receipt.
//!
//! The [`Queue`] type's docs say how waiting, timeouts, bounds and dead
//! workers work.

use std::future::Future;
use std::time::Duration;

use manager_core::reply::Delivered;
use manager_core::request::{QueueRequest, Wait};
use manager_core::{ManagerError, ObjectSpec, TypeTag};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handle::Proxy;
use super::object::{ObjectRef, encode, encode_all};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// Defines a queue proxy: its alias of [`Proxy`], with `$type_doc` as its
/// docs, and the methods of a plain queue, written once for [`Queue`] and
/// [`JoinableQueue`] (which adds `task_done` and `join` below). `$put_doc`
/// is the first paragraph of `put`'s docs.
macro_rules! queue_handle {
    (
        $(#[$type_doc:meta])*
        pub type $Queue:ident<T>;
        put: { $(#[$put_doc:meta])* }
    ) => {
        $(#[$type_doc])*
        pub type $Queue<T, M = Async> = Proxy<marker::$Queue<T>, M>;

        impl<T, M: Mode> $Queue<T, M> {
            /// The number of items (Python's `qsize()`).
            ///
            /// # Errors
            ///
            /// The errors of every call (see [`Client::call`](crate::Client::call)).
            pub fn len(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
                self.object.mode().answer(self.object.call_len(QueueRequest::len()))
            }

            #[doc = concat!("Python's name for [`", stringify!($Queue), "::len`].")]
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::len`].")]
            pub fn qsize(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
                self.object.mode().answer(self.object.call_len(QueueRequest::len()))
            }

            /// Whether it holds no item (Python's `empty()`).
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn is_empty(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(self.object.ask(QueueRequest::is_empty()))
            }

            #[doc = concat!("Python's name for [`", stringify!($Queue), "::is_empty`].")]
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::is_empty`].")]
            pub fn empty(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(self.object.ask(QueueRequest::is_empty()))
            }

            /// Whether a bounded queue holds `maxsize` items (Python's `full()`);
            /// always `false` for an unbounded one.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn is_full(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(self.object.ask(QueueRequest::is_full()))
            }

            #[doc = concat!("Python's name for [`", stringify!($Queue), "::is_full`].")]
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::is_full`].")]
            pub fn full(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
                self.object.mode().answer(self.object.ask(QueueRequest::is_full()))
            }

            /// How many calls are waiting on the queue now: gets for an
            /// item, puts for room and joins for the tasks to be done.
            ///
            /// # Errors
            ///
            /// The errors of every call.
            pub fn n_waiting(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
                self.object.mode().answer(async move {
                    let n = self.object.ask(QueueRequest::n_waiting()).await?;
                    Ok(usize::try_from(n).unwrap_or(usize::MAX))
                })
            }
        }

        impl<T: Serialize, M: Mode> $Queue<T, M> {
            $(#[$put_doc])*
            ///
            /// # Errors
            ///
            /// [`Error::EncodeValue`] if the item cannot be encoded; on a handle
            /// with a timeout, [`ManagerError::Full`] (as [`Error::Manager`]) if
            /// there was no room within it; and the errors of every call.
            ///
            /// # Cancel safety
            ///
            /// Not cancel safe: see [`Queue`](Queue#cancel-safety).
            pub fn put(&self, item: &T) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                self.put_within(item, None).await
                })
            }

            /// Adds `item` at the back, waiting at most `timeout` for room (Python's
            /// `put(item, timeout=...)`); a zero timeout does not wait.
            ///
            /// # Errors
            ///
            /// [`ManagerError::Full`] (as [`Error::Manager`]) if there was no room
            #[doc = concat!("in time: the item was not added. Otherwise as [`", stringify!($Queue), "::put`].")]
            pub fn put_timeout(&self, item: &T, timeout: Duration) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                self.put_within(item, Some(timeout)).await
                })
            }

            /// Adds `item` at the back if there is room now (Python's
            /// `put_nowait(item)`).
            ///
            /// # Errors
            ///
            /// [`ManagerError::Full`] (as [`Error::Manager`]) if the queue is full:
            #[doc = concat!("the item was not added. Otherwise as [`", stringify!($Queue), "::put`].")]
            pub fn put_nowait(&self, item: &T) -> M::Answer<impl Future<Output = Result<(), Error>>> {
                self.object.mode().answer(async move {
                self.put_within(item, Some(Duration::ZERO)).await
                })
            }

            async fn put_within(&self, item: &T, timeout: Option<Duration>) -> Result<(), Error> {
                let value = encode(item)?;
                let wait = Wait::from_timeout(timeout);
                self.object
                    .call_done(QueueRequest::put(value, wait))
                    .await
            }

            /// Adds `items` at the back, in order, in one request, waiting as
            /// long as it takes for room (as [`put`](Self::put) does for each);
            /// returns how many went in: all of them, unless the handle has a
            /// timeout and the queue stayed full until it passed. Those that
            /// went in are always the first ones, so `&items[n..]` is what is
            /// left to put. An unbounded queue takes them all at once.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::put`]; a queue that stays full is not an error (fewer went in). The items of one call must fit in one frame ([`Limits::max_frame`](crate::Limits::max_frame)).")]
            ///
            /// # Cancel safety
            ///
            /// Not cancel safe: a dropped call may have put some of the items.
            #[doc(alias = "extend")]
            pub fn put_many(&self, items: &[T]) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
                self.object.mode().answer(async move {
                self.put_many_within(items, None).await
                })
            }

            /// As [`put_many`](Self::put_many), waiting at most `timeout` for
            /// room; a zero timeout puts what fits now.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::put_many`].")]
            pub fn put_many_timeout(&self, items: &[T], timeout: Duration) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
                self.object.mode().answer(async move {
                self.put_many_within(items, Some(timeout)).await
                })
            }

            async fn put_many_within(&self, items: &[T], timeout: Option<Duration>) -> Result<usize, Error> {
                let values = encode_all(items)?;
                let wait = Wait::from_timeout(timeout);
                self.object.call_len(QueueRequest::put_many(values, wait)).await
            }
        }

        impl<T: DeserializeOwned, M: Mode> $Queue<T, M> {
            /// Takes the item at the front, waiting as long as it takes for one
            /// (Python's `get()`).
            ///
            /// # Errors
            ///
            /// [`ManagerError::WrongType`] if the item at the front was put as
            /// another type: it is *not* taken, it stays at the front for a
            /// consumer of the right type. On a handle with a timeout,
            /// [`ManagerError::Empty`] if no item came within it (both as
            /// [`Error::Manager`]); and the errors of every call.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: an item a dropped `get` takes afterwards is put
            /// back; see [`Queue`](Queue#cancel-safety).
            pub fn get(&self) -> M::Answer<impl Future<Output = Result<T, Error>>> {
                self.object.mode().answer(async move {
                self.get_within(None).await
                })
            }

            /// Takes the item at the front, waiting at most `timeout` for one
            /// (Python's `get(timeout=...)`); a zero timeout does not wait.
            ///
            /// # Errors
            ///
            /// [`ManagerError::Empty`] (as [`Error::Manager`]) if no item came in
            #[doc = concat!("time. Otherwise as [`", stringify!($Queue), "::get`].")]
            pub fn get_timeout(&self, timeout: Duration) -> M::Answer<impl Future<Output = Result<T, Error>>> {
                self.object.mode().answer(async move {
                self.get_within(Some(timeout)).await
                })
            }

            /// Takes the item at the front if there is one now (Python's
            /// `get_nowait()`).
            ///
            /// # Errors
            ///
            /// [`ManagerError::Empty`] (as [`Error::Manager`]) if the queue is
            #[doc = concat!("empty. Otherwise as [`", stringify!($Queue), "::get`].")]
            pub fn get_nowait(&self) -> M::Answer<impl Future<Output = Result<T, Error>>> {
                self.object.mode().answer(async move {
                self.get_within(Some(Duration::ZERO)).await
                })
            }

            /// Takes the item at the front if there is one now, or `None`.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::get_nowait`], except that an empty queue is `Ok(None)`.")]
            pub fn try_get(&self) -> M::Answer<impl Future<Output = Result<Option<T>, Error>>> {
                self.object.mode().answer(async move {
                match self.get_within(Some(Duration::ZERO)).await {
                    Ok(item) => Ok(Some(item)),
                    Err(Error::Manager(ManagerError::Empty { .. })) => Ok(None),
                    Err(e) => Err(e),
                }
                })
            }

            /// Takes the item at the front *with a receipt*, waiting as long as
            /// it takes for one: an acknowledged get, as job queues offer
            /// (RabbitMQ's consumer acks, SQS's receipt handles). The manager
            /// keeps the item as in flight for this connection until the
            /// [`Delivery`] is acknowledged ([`Delivery::ack`], or
            /// [`Delivery::task_done`] on a joinable queue). If this process
            /// dies first, at any moment (before it read the reply, after,
            /// in the middle of the work), the item goes back to the front
            /// of the queue for another consumer; so does a `Delivery`
            /// dropped without an acknowledgement. A plain [`get`](Self::get)
            /// forgets the item as soon as it is taken.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::get`].")]
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: an item a dropped `receive` takes afterwards is
            /// given back.
            pub fn receive(&self) -> M::Answer<impl Future<Output = Result<Delivery<T, M>, Error>>> {
                self.object.mode().answer(async move {
                self.receive_within(None).await
                })
            }

            /// As [`receive`](Self::receive), waiting at most `timeout` for an
            /// item; a zero timeout does not wait.
            ///
            /// # Errors
            ///
            /// [`ManagerError::Empty`] (as [`Error::Manager`]) if no item came in
            #[doc = concat!("time. Otherwise as [`", stringify!($Queue), "::get`].")]
            pub fn receive_timeout(&self, timeout: Duration) -> M::Answer<impl Future<Output = Result<Delivery<T, M>, Error>>> {
                self.object.mode().answer(async move {
                self.receive_within(Some(timeout)).await
                })
            }

            /// Takes up to `max` items from the front in one request, waiting as
            /// long as it takes for the first (as [`get`](Self::get) does); it
            /// answers with what is there then, front first, so it may return
            /// fewer than `max` (never none, unless the handle has a timeout
            /// and no item came within it). It takes fewer rather than answer
            /// more than a frame holds. A `max` of 0 is taken as 1.
            ///
            /// # Errors
            ///
            /// [`ManagerError::WrongType`] if the front item was put as another
            /// type: nothing is taken. An item of another type further back
            /// ends the batch before it and stays at the front. Otherwise as
            #[doc = concat!("[`", stringify!($Queue), "::get`]; no item in time is an empty `Vec`, not an error.")]
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: the items a dropped `get_many` takes afterwards are
            /// put back at the front, in order.
            pub fn get_many(&self, max: usize) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>> {
                self.object.mode().answer(async move {
                self.get_many_within(max, None).await
                })
            }

            /// As [`get_many`](Self::get_many), waiting at most `timeout` for
            /// the first item; a zero timeout takes what is there now. No item
            /// in time is an empty `Vec`.
            ///
            /// # Errors
            ///
            #[doc = concat!("As [`", stringify!($Queue), "::get_many`].")]
            pub fn get_many_timeout(&self, max: usize, timeout: Duration) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>> {
                self.object.mode().answer(async move {
                self.get_many_within(max, Some(timeout)).await
                })
            }

            async fn get_many_within(&self, max: usize, timeout: Option<Duration>) -> Result<Vec<T>, Error> {
                let wait = Wait::from_timeout(timeout);
                let max = u64::try_from(max).unwrap_or(u64::MAX);
                let values = self
                    .object
                    .ask(QueueRequest::get_many(max, TypeTag::of::<T>(), wait))
                    .await?;
                let decoded: Result<Vec<T>, Error> =
                    values.iter().map(|v| self.object.decode(v)).collect();
                if decoded.is_err() {
                    // Put as a `T` but not decodable as one (another
                    // layout under the same name): none is lost, all go
                    // back to the front.
                    let _ = self.object.send_detached(QueueRequest::return_many(values));
                }
                decoded
            }

            async fn receive_within(&self, timeout: Option<Duration>) -> Result<Delivery<T, M>, Error> {
                let wait = Wait::from_timeout(timeout);
                let delivered = self
                    .object
                    .ask(QueueRequest::receive(Some(TypeTag::of::<T>()), wait))
                    .await?;
                Delivery::new(&self.object, delivered)
            }

            /// A typed get: the manager takes the front item only if it was put as
            /// a `T`, and otherwise answers `WrongType` and leaves it there.
            async fn get_within(&self, timeout: Option<Duration>) -> Result<T, Error> {
                let wait = Wait::from_timeout(timeout);
                let value = self
                    .object
                    .ask(QueueRequest::get_as(TypeTag::of::<T>(), wait))
                    .await?;
                let decoded = self.object.decode(&value);
                if decoded.is_err() {
                    // Put as a `T` but not decodable as one: it goes back
                    // to the front rather than being lost.
                    let _ = self.object.send_detached(QueueRequest::return_item(value));
                }
                decoded
            }
        }
    };
}

kind_markers! {
    /// The kind of a [`Queue<T>`](super::Queue) proxy: it sees queues, whose
    /// items it reads as `T`s.
    Queue<T> => Queue;
    /// The kind of a [`JoinableQueue<T>`](super::JoinableQueue) proxy: it
    /// sees joinable queues, whose items it reads as `T`s.
    JoinableQueue<T> => JoinableQueue;
}

queue_handle! {
    /// A handle on a shared FIFO queue of `T`s, like Python's
    /// `Manager().Queue()`.
    ///
    /// It has no `task_done` or `join`; see [`JoinableQueue`] for a queue
    /// whose consumers mark items done.
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
    /// use manager::{Error, ManagerError};
    ///
    /// # let manager = manager::Manager::start()?;
    /// # let client = manager.connect_async().await?;
    /// let jobs = client.queue::<String>("jobs", Some(2)).await?;
    /// jobs.put(&"resize a.png".to_owned()).await?;
    /// jobs.put(&"resize b.png".to_owned()).await?;
    /// assert!(jobs.is_full().await?);
    /// // Full: `put_nowait` fails at once instead of waiting for room.
    /// let err = jobs.put_nowait(&"resize c.png".to_owned()).await.unwrap_err();
    /// assert!(matches!(err, Error::Manager(ManagerError::Full { .. })));
    ///
    /// assert_eq!(jobs.get().await?, "resize a.png");
    /// assert_eq!(jobs.get_timeout(Duration::from_secs(1)).await?, "resize b.png");
    /// assert_eq!(jobs.try_get().await?, None);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Waiting
    ///
    /// `get` waits for an item and `put` (on a bounded queue) for room; neither
    /// blocks the manager: the request is parked there and answered when it can
    /// proceed. Waiters are served in arrival order. `*_timeout` methods bound
    /// the wait and fail with [`ManagerError::Empty`] / [`ManagerError::Full`]
    /// when it ends; `*_nowait` methods do not wait at all.
    ///
    /// On a handle made with `with_timeout(d)`, a wait without a timeout of its
    /// own lasts at most `d`, and a `*_timeout` wait at most the shorter of the
    /// two. The manager ends such a wait itself (with `Empty`, `Full` or
    /// `false`), so nothing is left parked there: a `get` that gave up can never
    /// take an item later, and a `put` that gave up never adds its item. Only
    /// if the manager does not answer within [`WAIT_GRACE`] after that does the
    /// call fail with [`Error::Timeout`].
    ///
    /// # Types
    ///
    /// A `get` tells the manager which type it will decode the item as, and the
    /// manager checks the front item's type before taking it. An item put as
    /// another type is never taken by this handle: the `get` fails with
    /// [`ManagerError::WrongType`] and the item stays at the front, for a
    /// consumer of the right type. A `get` parked on an empty queue is checked
    /// the same way when an item arrives: it fails with `WrongType` and the item
    /// goes to the next getter or into the queue. So a consumer built from the
    /// wrong type fails on the first item instead of draining the queue.
    ///
    /// Types are compared by name ([`TypeTag`]); an item of a type with the
    /// same name but another layout (a struct changed between two builds) is
    /// taken, fails to decode with [`ManagerError::Undecodable`], and is put
    /// back at the front (a `get_many`'s whole batch with it), so nothing
    /// is lost; a consumer that cannot read it keeps failing until one
    /// that can takes it.
    ///
    /// # Backpressure
    ///
    /// A queue created with a `maxsize` holds at most that many items; `put`
    /// waits for a `get` to make room (Python's `maxsize`; 0 means unbounded).
    ///
    /// # What happens when a worker dies
    ///
    /// Its parked `get`s, `put`s and `join`s are dropped. An item is never
    /// handed to a getter the manager knows to be dead while a live one waits,
    /// and a dead worker's waiting `put` never adds its item. Items a worker
    /// took and did not mark done stay unfinished: a `join` waits for them.
    ///
    /// # Cancel safety
    ///
    /// A future dropped after its request went out (in `select!`, or under
    /// `tokio::time::timeout`) leaves the request parked in the manager. A
    /// `get` served then does not lose its item: the client puts it back at
    /// the front of the queue as soon as it arrives. A `put` is not cancel
    /// safe: its item may still be added. To bound a wait, prefer
    /// [`Queue::get_timeout`] and [`Queue::put_timeout`], which the manager
    /// ends itself.
    ///
    /// [`WAIT_GRACE`]: crate::proxy::WAIT_GRACE
    pub type Queue<T>;
    put: {
        /// Adds `item` at the back, waiting as long as it takes for room in a
        /// bounded queue (Python's `put(item)`).
    }
}

queue_handle! {
    /// A handle on a shared queue of `T`s whose consumers mark items done, like
    /// Python's `Manager().JoinableQueue()`: a [`Queue`] plus
    /// [`task_done`](JoinableQueue::task_done) and [`join`](JoinableQueue::join).
    ///
    /// Every item put counts as unfinished until a `task_done` marks it
    /// processed; `join` waits until none is unfinished.
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
    /// let tasks = client.joinable_queue::<u32>("tasks", None).await?;
    /// tasks.put(&1).await?;
    /// tasks.put(&2).await?;
    /// // Two unfinished tasks: a join gives up.
    /// assert!(!tasks.join_timeout(Duration::ZERO).await?);
    ///
    /// while let Some(task) = tasks.try_get().await? {
    ///     println!("processing {task}");
    ///     tasks.task_done().await?;
    /// }
    /// assert!(tasks.join().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub type JoinableQueue<T>;
    put: {
        /// Adds `item` at the back, waiting as long as it takes for room in a
        /// bounded queue (Python's `put(item)`); it counts as unfinished
        /// until a `task_done`.
    }
}

impl<T, M: Mode> JoinableQueue<T, M> {
    /// Marks one item taken with `get` as processed (Python's
    /// `task_done()`). When every item put has been marked, waiting `join`s
    /// return `true`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::TooManyReleases`] (as [`Error::Manager`]) if it is
    /// called more times than items were put, and the errors of every call.
    pub fn task_done(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_done(QueueRequest::task_done()).await })
    }

    /// Waits until every item put has been marked done (Python's `join()`);
    /// returns `true` then. Returns `false` only on a handle with a timeout,
    /// when that passed first.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `join` changes nothing (it may stay parked in
    /// the manager until the queue is joined or the connection closes).
    pub fn join(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { self.join_within(None).await })
    }

    /// Waits at most `timeout` until every item put has been marked done;
    /// returns whether they were. A zero timeout does not wait.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn join_timeout(
        &self,
        timeout: Duration,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { self.join_within(Some(timeout)).await })
    }

    async fn join_within(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let wait = Wait::from_timeout(timeout);
        self.object.ask(QueueRequest::join(wait)).await
    }
}

/// An item taken from a queue with a receipt ([`Queue::receive`],
/// [`JoinableQueue::receive`]): the manager keeps it as in flight for this
/// connection until it is acknowledged.
///
/// Acknowledge it once the work on it is done: [`Delivery::ack`], or on a
/// joinable queue [`Delivery::task_done`] (acknowledged and marked done in
/// one request). [`Delivery::requeue`] gives it back at once. Dropping it
/// unacknowledged gives it back too (a blocking one before `drop` returns;
/// an async one sends the request without waiting for its answer, in order
/// with this connection's later requests); if the
/// whole process dies instead, the manager gives it back when the
/// connection closes. Either way it returns to the front of the queue, not
/// as a new task for `join`.
#[derive(Debug)]
#[must_use = "an item not acknowledged goes back to the queue when dropped"]
pub struct Delivery<T, M: Mode = Async> {
    object: ObjectRef<M>,
    receipt: u64,
    /// `None` only once acknowledged (taken out by `ack`).
    item: Option<T>,
    settled: bool,
}

impl<T: DeserializeOwned, M: Mode> Delivery<T, M> {
    fn new(object: &ObjectRef<M>, delivered: Delivered) -> Result<Self, Error> {
        let Delivered { receipt, value } = delivered;
        match object.decode(&value) {
            Ok(item) => Ok(Delivery {
                object: object.clone(),
                receipt,
                item: Some(item),
                settled: false,
            }),
            Err(error) => {
                // Not ours to keep: it goes back for a consumer that can
                // read it.
                let _ = object.send_detached(QueueRequest::requeue(receipt));
                Err(error)
            }
        }
    }
}

impl<T, M: Mode> Delivery<T, M> {
    /// The item.
    pub fn item(&self) -> &T {
        self.item.as_ref().expect("held until acknowledged")
    }

    /// The receipt the manager gave this item, unique in its queue.
    pub fn receipt(&self) -> u64 {
        self.receipt
    }

    /// Acknowledges the item: the manager forgets it. Returns the item.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotHeld`] (as [`Error::Manager`]) if the manager no
    /// longer holds it for this connection, and the errors of every call.
    pub fn ack(mut self) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object.mode().clone().answer(async move {
            self.settle(false).await?;
            Ok(self.item.take().expect("held until acknowledged"))
        })
    }

    /// Acknowledges the item and marks it done for `join` (a joinable
    /// queue's `task_done()`), in one request.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Unsupported`] (as [`Error::Manager`]) on a plain
    /// queue, and as [`Delivery::ack`].
    pub fn task_done(mut self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .clone()
            .answer(async move { self.settle(true).await })
    }

    /// Gives the item back now: it returns to the front of the queue.
    ///
    /// # Errors
    ///
    /// As [`Delivery::ack`].
    pub fn requeue(mut self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().clone().answer(async move {
            self.settled = true;
            self.object
                .call_done(QueueRequest::requeue(self.receipt))
                .await
        })
    }

    async fn settle(&mut self, task_done: bool) -> Result<(), Error> {
        self.settled = true;
        self.object
            .call_done(QueueRequest::ack(self.receipt, task_done))
            .await
    }
}

impl<T, M: Mode> std::ops::Deref for Delivery<T, M> {
    type Target = T;

    fn deref(&self) -> &T {
        self.item()
    }
}

impl<T, M: Mode> Drop for Delivery<T, M> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // A blocking delivery is back in its queue before `drop` returns;
        // an async one sends the requeue, in order with later requests.
        let requeue = QueueRequest::requeue(self.receipt);
        let result = match self
            .object
            .mode()
            .run_here(self.object.call_done(requeue.clone()))
        {
            Some(result) => result,
            None => self.object.send_detached(requeue),
        };
        if let Err(error) = result {
            tracing::debug!(queue = %self.object.what(), %error, "requeue from a dropped delivery failed");
        }
    }
}

impl<M: Mode> Client<M> {
    /// Finds or creates the queue `name`; `maxsize` bounds a new one.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn queue<T>(
        &self,
        name: &str,
        maxsize: Option<usize>,
    ) -> M::Answer<impl Future<Output = Result<Queue<T, M>, Error>>> {
        self.mode().answer(async move {
            let spec = ObjectSpec::Queue {
                maxsize: maxsize.map(|n| n as u64),
            };
            Ok(Proxy::new(self.object_in(name, spec).await?))
        })
    }

    /// Finds or creates the joinable queue `name`; `maxsize` bounds a new one.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn joinable_queue<T>(
        &self,
        name: &str,
        maxsize: Option<usize>,
    ) -> M::Answer<impl Future<Output = Result<JoinableQueue<T, M>, Error>>> {
        self.mode().answer(async move {
            let spec = ObjectSpec::JoinableQueue {
                maxsize: maxsize.map(|n| n as u64),
            };
            Ok(Proxy::new(self.object_in(name, spec).await?))
        })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared FIFO queue; see [`proxy::Queue`](super::Queue).
    pub type Queue<T> = super::Queue<T, Blocking>;
    /// A shared joinable queue; see [`proxy::JoinableQueue`](super::JoinableQueue).
    pub type JoinableQueue<T> = super::JoinableQueue<T, Blocking>;
    /// An item got from a queue, to acknowledge; see [`proxy::Delivery`](super::Delivery).
    pub type Delivery<T> = super::Delivery<T, Blocking>;
}

//! [`List`]: the async proxy of a shared list of `T`s, and
//! [`Client::list`], which finds or creates one.
//!
//! Indices are `i64` and follow Python: `-1` is the last item, slices clamp
//! to the list, `insert` past either end puts the item at that end. Each
//! method is one request, applied whole before any other client's next one:
//! an [`extend`](List::extend) lands as one block, a [`pop`](List::pop)
//! never hands one item to two processes.
//!
//! # Sorting
//!
//! The manager does not know how to compare users' values, so
//! [`List::sort`] reads the list with its version, sorts it here and writes
//! it back only if no other client changed the list meanwhile; if one did,
//! it waits a little (a few milliseconds, growing) and retries. Nothing
//! another process appended during a sort is ever lost. Under changes that
//! never pause, the sort gives up after [`List::SORT_ATTEMPTS`] attempts
//! (or once the handle's timeout has passed) with [`Error::Contended`],
//! leaving the list as it is.
//!
//! # Types
//!
//! [`List::pop`] and [`List::pop_index`] tell the manager which type they
//! will decode the item as; an item stored as another type is not removed,
//! and the pop fails with
//! [`ManagerError::WrongType`](crate::ManagerError::WrongType) (an integer
//! of another width is taken if it fits, see `docs/semantics.md`).
//!
//! The searches ([`List::contains`], [`List::index`], [`List::count`],
//! [`List::remove`]) take any `&Q` that `T` borrows as (a `&str` for a
//! `List<String>`), encoded as the owned item would be.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::future::Future;
use std::time::{Duration, Instant};

use manager_core::reply::Versioned;
use manager_core::request::{Call, ListRequest};
use manager_core::{Encoded, ObjectSpec, TypeTag};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handle::Proxy;
use super::object::{ObjectRef, encode, encode_all, encode_key};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// The pause after the first failed sort attempt; it doubles after each
/// further one, up to [`SORT_BACKOFF_MAX`].
const SORT_BACKOFF_FIRST: Duration = Duration::from_millis(1);

/// The longest pause between two sort attempts.
const SORT_BACKOFF_MAX: Duration = Duration::from_millis(8);

/// A handle on a shared list of `T`s, like Python's `Manager().list()`.
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
/// let sizes = client.list::<i64>("sizes").await?;
/// sizes.append(&30).await?;
/// sizes.extend(&[10, 20]).await?;
/// assert_eq!(sizes.get(-1).await?, 20);
/// sizes.sort().await?;
/// assert_eq!(sizes.snapshot().await?, [10, 20, 30]);
/// assert_eq!(sizes.pop().await?, 30);
/// assert_eq!(sizes.len().await?, 2);
/// # Ok(())
/// # }
/// ```
pub type List<T, M = Async> = Proxy<marker::List<T>, M>;

kind_markers! {
    /// The kind of a [`List<T>`](super::List) proxy: it sees lists, whose items it reads as `T`s.
    List<T> => List;
}

impl<T, M: Mode> List<T, M> {
    /// How many times [`List::sort`] (and `sort_by`, `sort_by_key`) reads,
    /// sorts and tries to write back before it gives up with
    /// [`Error::Contended`].
    pub const SORT_ATTEMPTS: u32 = 32;

    async fn done(&self, call: Call<()>) -> Result<(), Error> {
        self.object.call_done(call).await
    }

    async fn count_of(&self, call: Call<u64>) -> Result<usize, Error> {
        self.object.call_len(call).await
    }

    /// The number of items (Python's `len(l)`).
    ///
    /// # Errors
    ///
    /// The errors of every call (see [`Client::call`](crate::Client::call)).
    pub fn len(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object
            .mode()
            .answer(async move { self.count_of(ListRequest::len()).await })
    }

    /// Whether the list has no items.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn is_empty(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { Ok(self.count_of(ListRequest::len()).await? == 0) })
    }

    /// Removes every item (Python's `l.clear()`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn clear(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.done(ListRequest::clear()).await })
    }

    /// Reverses the list in place (Python's `l.reverse()`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn reverse(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.done(ListRequest::reverse()).await })
    }
}

impl<T: Serialize, M: Mode> List<T, M> {
    /// Replaces the item at `index` (Python's `l[i] = x`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::IndexOutOfRange`](crate::ManagerError::IndexOutOfRange)
    /// (as [`Error::Manager`]) if `index` is outside the list,
    /// [`Error::EncodeValue`] if the value cannot be encoded, and the errors
    /// of every call.
    pub fn set(&self, index: i64, value: &T) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.done(ListRequest::set(index, value)).await
        })
    }

    /// Adds an item at the end (Python's `l.append(x)`).
    ///
    /// # Errors
    ///
    /// [`Error::EncodeValue`] if the value cannot be encoded, and the errors
    /// of every call.
    pub fn append(&self, value: &T) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.done(ListRequest::append(value)).await
        })
    }

    /// Adds items at the end in one request (Python's `l.extend(xs)`): no
    /// other client's item lands between them.
    ///
    /// # Errors
    ///
    /// As [`List::append`]; if one value cannot be encoded, nothing is sent.
    pub fn extend<'a>(
        &self,
        values: impl IntoIterator<Item = &'a T>,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>>
    where
        T: 'a,
    {
        self.object.mode().answer(async move {
            let values = encode_all(values)?;
            self.done(ListRequest::extend(values)).await
        })
    }

    /// Inserts an item before `index` (Python's `l.insert(i, x)`): an index
    /// past the end appends, one before the start prepends.
    ///
    /// # Errors
    ///
    /// As [`List::append`].
    pub fn insert(
        &self,
        index: i64,
        value: &T,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.done(ListRequest::insert(index, value)).await
        })
    }

    /// Removes the first item equal to `value` (Python's `l.remove(x)`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`](crate::ManagerError::NotFound) (as
    /// [`Error::Manager`]) if there is none, otherwise as [`List::append`].
    pub fn remove<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<(), Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let value = encode_key::<T, Q>(value)?;
            self.done(ListRequest::remove(value)).await
        })
    }

    /// The index of the first item equal to `value` (Python's `l.index(x)`).
    ///
    /// # Errors
    ///
    /// As [`List::remove`].
    pub fn index<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<usize, Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let value = encode_key::<T, Q>(value)?;
            self.count_of(ListRequest::index(value)).await
        })
    }

    /// How many items equal `value` (Python's `l.count(x)`).
    ///
    /// # Errors
    ///
    /// As [`List::append`].
    pub fn count<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<usize, Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let value = encode_key::<T, Q>(value)?;
            self.count_of(ListRequest::count(value)).await
        })
    }

    /// Whether an item equals `value` (Python's `x in l`).
    ///
    /// # Errors
    ///
    /// As [`List::append`].
    pub fn contains<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<bool, Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let value = encode_key::<T, Q>(value)?;
            self.object.ask(ListRequest::contains(value)).await
        })
    }

    /// Replaces every item with `values` if the list is still at `version`
    /// (from [`List::versioned_snapshot`]); returns whether it replaced. The
    /// building block of read-modify-write updates such as [`List::sort`].
    ///
    /// # Errors
    ///
    /// As [`List::extend`].
    pub fn replace_if_version<'a>(
        &self,
        version: u64,
        values: impl IntoIterator<Item = &'a T>,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>>
    where
        T: 'a,
    {
        self.object.mode().answer(async move {
            let values = encode_all(values)?;
            self.object
                .ask(ListRequest::replace_if_version(version, values))
                .await
        })
    }
}

impl<T: DeserializeOwned, M: Mode> List<T, M> {
    /// The item at `index` (Python's `l[i]`; `-1` is the last).
    ///
    /// # Errors
    ///
    /// [`ManagerError::IndexOutOfRange`](crate::ManagerError::IndexOutOfRange)
    /// if `index` is outside the list, and
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if the
    /// item was stored as another type than `T` (both as [`Error::Manager`]),
    /// and the errors of every call.
    pub fn get(&self, index: i64) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_value(ListRequest::get(index)).await })
    }

    /// Removes and returns the last item (Python's `l.pop()`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::Empty`](crate::ManagerError::Empty) if the list is
    /// empty, otherwise as [`List::get`]. An item stored as another type
    /// than `T` is not removed: the pop fails with `WrongType` and the list
    /// is unchanged.
    pub fn pop(&self) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object.mode().answer(async move {
            self.object
                .call_value(ListRequest::pop(None, Some(TypeTag::of::<T>())))
                .await
        })
    }

    /// Removes and returns the item at `index` (Python's `l.pop(i)`).
    ///
    /// # Errors
    ///
    /// As [`List::pop`] and [`List::get`].
    pub fn pop_index(&self, index: i64) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object.mode().answer(async move {
            self.object
                .call_value(ListRequest::pop(Some(index), Some(TypeTag::of::<T>())))
                .await
        })
    }

    /// A copy of `l[start:stop]` (`None`: from the start, to the end), with
    /// Python's slice rules: negative bounds count from the end, bounds
    /// outside the list are clamped, never an error.
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if an item
    /// was stored as another type, and the errors of every call.
    pub fn slice(
        &self,
        start: Option<i64>,
        stop: Option<i64>,
    ) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>> {
        self.object.mode().answer(async move {
            self.object
                .call_values(ListRequest::slice(start, stop))
                .await
        })
    }

    /// Every item, read in one request.
    ///
    /// # Errors
    ///
    /// As [`List::slice`].
    pub fn snapshot(&self) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_values(ListRequest::snapshot()).await })
    }

    /// Every item with the list's version, which changes with every
    /// modification; see [`List::replace_if_version`].
    ///
    /// # Errors
    ///
    /// As [`List::slice`].
    pub fn versioned_snapshot(
        &self,
    ) -> M::Answer<impl Future<Output = Result<(u64, Vec<T>), Error>>> {
        self.object.mode().answer(async move {
            let (version, values) = self.versioned().await?;
            let items = values
                .iter()
                .map(|v| self.object.decode(v))
                .collect::<Result<_, _>>()?;
            Ok((version, items))
        })
    }

    async fn versioned(&self) -> Result<(u64, Vec<Encoded>), Error> {
        let Versioned { version, values } =
            self.object.ask(ListRequest::versioned_snapshot()).await?;
        Ok((version, values))
    }

    /// Sorts the list in place, stably, by `T`'s order (Python's
    /// `l.sort()`).
    ///
    /// Reads the list, sorts it here and writes it back if no other client
    /// changed it meanwhile; otherwise pauses a little (1 ms, doubling up
    /// to 8 ms) and tries again, at most [`List::SORT_ATTEMPTS`] times in
    /// all.
    /// The items are written back exactly as they were stored, only
    /// reordered; an attempt that fails changes nothing.
    ///
    /// On a handle with a timeout, the whole sort, every attempt and pause
    /// included, lasts at most about that long: no attempt starts after it
    /// has passed, and each call gets only what is left of it.
    ///
    /// # Errors
    ///
    /// [`Error::Contended`] if other clients changed the list during every
    /// attempt (or every attempt before the handle's timeout passed): the
    /// list was not sorted, and nothing was lost. [`Error::Timeout`] if a
    /// call got no answer in what was left of the handle's timeout.
    /// Otherwise as [`List::slice`].
    pub fn sort(&self) -> M::Answer<impl Future<Output = Result<(), Error>>>
    where
        T: Ord,
    {
        self.object.mode().answer(async move {
            self.reorder(|items| items.sort_by(|a, b| a.0.cmp(&b.0)))
                .await
        })
    }

    /// Sorts the list in place, stably, by `compare`; see [`List::sort`].
    ///
    /// `compare` is called afresh on each attempt.
    ///
    /// # Errors
    ///
    /// As [`List::sort`].
    pub fn sort_by(
        &self,
        mut compare: impl FnMut(&T, &T) -> Ordering,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            self.reorder(|items| items.sort_by(|a, b| compare(&a.0, &b.0)))
                .await
        })
    }

    /// Sorts the list in place, stably, by the key `key` gives each item
    /// (Python's `l.sort(key=...)`); see [`List::sort`].
    ///
    /// # Errors
    ///
    /// As [`List::sort`].
    pub fn sort_by_key<K: Ord>(
        &self,
        mut key: impl FnMut(&T) -> K,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            self.reorder(|items| items.sort_by_key(|item| key(&item.0)))
                .await
        })
    }

    /// Reads the list, lets `order` permute its items (each decoded, next to
    /// its stored form) and writes the permutation back if the list did not
    /// change meanwhile; retries after a short, growing pause while it did,
    /// at most [`List::SORT_ATTEMPTS`] times and within the handle's timeout.
    async fn reorder(&self, mut order: impl FnMut(&mut [(T, Encoded)])) -> Result<(), Error> {
        let started = Instant::now();
        let limit = self.object.client().timeout();
        // What is left of the handle's timeout; `None` when it has none.
        let left = || limit.map(|limit| limit.saturating_sub(started.elapsed()));
        let mut pause = SORT_BACKOFF_FIRST;
        let mut attempts = 0;
        loop {
            // The first attempt always runs, with the handle as it is.
            let object = match left() {
                Some(left) if attempts > 0 => {
                    if left.is_zero() {
                        break;
                    }
                    Cow::Owned(self.object.with_timeout(left))
                }
                _ => Cow::Borrowed(&self.object),
            };
            attempts += 1;
            // A call that runs out of what is left reports the sort's whole
            // timeout, the deadline that passed.
            let timed_out = |e: Error| match (e, limit) {
                (Error::Timeout { .. }, Some(limit)) => Error::Timeout { after: limit },
                (e, _) => e,
            };
            if Self::attempt(&object, &mut order)
                .await
                .map_err(timed_out)?
            {
                return Ok(());
            }
            if attempts == Self::SORT_ATTEMPTS {
                break;
            }
            let nap = left().map_or(pause, |left| pause.min(left));
            tokio::time::sleep(nap).await;
            pause = (pause * 2).min(SORT_BACKOFF_MAX);
        }
        Err(Error::Contended {
            operation: "sort".to_owned(),
            what: self.object.what(),
            attempts,
        })
    }

    /// One read, reorder and conditional write through `object` (this
    /// list, perhaps with a shorter timeout); whether the write went
    /// through.
    async fn attempt(
        object: &ObjectRef<M>,
        order: &mut impl FnMut(&mut [(T, Encoded)]),
    ) -> Result<bool, Error> {
        let Versioned { version, values } = object.ask(ListRequest::versioned_snapshot()).await?;
        let mut items = values
            .into_iter()
            .map(|stored| Ok((object.decode(&stored)?, stored)))
            .collect::<Result<Vec<_>, Error>>()?;
        order(&mut items);
        let values = items.into_iter().map(|(_, stored)| stored).collect();
        object
            .ask(ListRequest::replace_if_version(version, values))
            .await
    }
}

impl<M: Mode> Client<M> {
    /// Finds or creates the list `name` of `T`s.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn list<T>(
        &self,
        name: &str,
    ) -> M::Answer<impl Future<Output = Result<List<T, M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.object_in(name, ObjectSpec::List).await?)) })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared list of `T`s; see [`proxy::List`](super::List).
    pub type List<T> = super::List<T, Blocking>;
}

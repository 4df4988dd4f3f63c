//! [`Set`]: the async proxy of a shared set of `T`s in insertion order,
//! and [`Client::set`], which finds or creates one.
//!
//! Items are compared by their encoded bytes and type, not by `T`'s `Eq`.
//! [`Set::add`], [`Set::remove`], [`Set::discard`] and [`Set::contains`]
//! take any `&Q` that `T` borrows as (a `&str` for a `Set<String>`),
//! encoded as the owned item would be.
//! Unlike Python's sets, this one keeps the order items were added in, so
//! every answer is deterministic: [`Set::pop`] takes the last added item,
//! and [`Set::union`], [`Set::intersection`] and [`Set::difference`] list
//! the set's items in its order, then (for a union) the new items in the
//! order given. None of those three changes the set.
//!
//! [`Set::pop`] tells the manager which type it will decode the item as; an
//! item stored as another type is not removed, and the pop fails with
//! [`ManagerError::WrongType`](crate::ManagerError::WrongType).

use std::borrow::Borrow;
use std::future::Future;

use manager_core::ObjectSpec;
use manager_core::TypeTag;
use manager_core::request::{Call, SetRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handle::Proxy;
use super::object::{encode_all, encode_key};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on a shared set of `T`s in insertion order, like Python 3.14's `Manager().set()`.
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
/// let seen = client.set::<i64>("seen").await?;
/// assert!(seen.add(&3).await?);
/// assert!(seen.add(&1).await?);
/// assert!(!seen.add(&3).await?, "already there");
/// assert_eq!(seen.union(&[2, 3]).await?, [3, 1, 2]);
/// assert_eq!(seen.intersection(&[1, 7]).await?, [1]);
/// assert_eq!(seen.pop().await?, 1);
/// # Ok(())
/// # }
/// ```
pub type Set<T, M = Async> = Proxy<marker::Set<T>, M>;

kind_markers! {
    /// The kind of a [`Set<T>`](super::Set) proxy: it sees sets, whose members it reads as `T`s.
    Set<T> => Set;
}

impl<T, M: Mode> Set<T, M> {
    /// The number of items (Python's `len(s)`).
    ///
    /// # Errors
    ///
    /// The errors of every call (see [`Client::call`](crate::Client::call)).
    pub fn len(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object.mode().answer(async move {
            let n = self.object.ask(SetRequest::len()).await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    /// Whether the set has no items.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn is_empty(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { Ok(self.object.call_len(SetRequest::len()).await? == 0) })
    }

    /// Removes every item (Python's `s.clear()`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn clear(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_done(SetRequest::clear()).await })
    }
}

impl<T: Serialize, M: Mode> Set<T, M> {
    async fn with_value<Q>(
        &self,
        value: &Q,
        request: impl FnOnce(manager_core::Encoded) -> Call<bool>,
    ) -> Result<bool, Error>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let value = encode_key::<T, Q>(value)?;
        self.object.ask(request(value)).await
    }

    /// Adds an item; returns whether it was new (Python's `s.add(x)`, which
    /// does not say).
    ///
    /// # Errors
    ///
    /// [`Error::EncodeValue`] if the value cannot be encoded, and the errors
    /// of every call.
    pub fn add<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<bool, Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object
            .mode()
            .answer(async move { self.with_value(value, SetRequest::add).await })
    }

    /// Removes an item that must be present (Python's `s.remove(x)`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`](crate::ManagerError::NotFound) (as
    /// [`Error::Manager`]) if it is absent, otherwise as [`Set::add`].
    pub fn remove<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<(), Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let value = encode_key::<T, Q>(value)?;
            self.object.call_done(SetRequest::remove(value)).await
        })
    }

    /// Removes an item if present; returns whether it was (Python's
    /// `s.discard(x)`, which does not say).
    ///
    /// # Errors
    ///
    /// As [`Set::add`].
    pub fn discard<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<bool, Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object
            .mode()
            .answer(async move { self.with_value(value, SetRequest::discard).await })
    }

    /// Whether an item is present (Python's `x in s`).
    ///
    /// # Errors
    ///
    /// As [`Set::add`].
    pub fn contains<Q>(&self, value: &Q) -> M::Answer<impl Future<Output = Result<bool, Error>>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object
            .mode()
            .answer(async move { self.with_value(value, SetRequest::contains).await })
    }
}

impl<T: DeserializeOwned, M: Mode> Set<T, M> {
    /// Removes and returns the last added item (Python's `s.pop()`, which
    /// takes an arbitrary one).
    ///
    /// # Errors
    ///
    /// [`ManagerError::Empty`](crate::ManagerError::Empty) if the set is
    /// empty, [`ManagerError::WrongType`](crate::ManagerError::WrongType) if
    /// the item was stored as another type than `T` (both as
    /// [`Error::Manager`]; the item is then not removed), and the errors of
    /// every call.
    pub fn pop(&self) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object.mode().answer(async move {
            self.object
                .call_value(SetRequest::pop(Some(TypeTag::of::<T>())))
                .await
        })
    }

    /// Every item, in the order they were added, read in one request.
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if an item
    /// was stored as another type than `T`, and the errors of every call.
    pub fn snapshot(&self) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_values(SetRequest::snapshot()).await })
    }
}

impl<T: Serialize + DeserializeOwned, M: Mode> Set<T, M> {
    async fn algebra<'a>(
        &self,
        values: impl IntoIterator<Item = &'a T>,
        request: impl FnOnce(Vec<manager_core::Encoded>) -> Call<Vec<manager_core::Encoded>>,
    ) -> Result<Vec<T>, Error>
    where
        T: 'a,
    {
        let values = encode_all(values)?;
        self.object.call_values(request(values)).await
    }

    /// The set's items together with `values` (Python's `s | set(xs)`):
    /// the set's items in its order, then the new ones in the order given.
    /// The set itself is unchanged.
    ///
    /// # Errors
    ///
    /// As [`Set::add`] and [`Set::snapshot`].
    pub fn union<'a>(
        &self,
        values: impl IntoIterator<Item = &'a T>,
    ) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>>
    where
        T: 'a,
    {
        self.object
            .mode()
            .answer(async move { self.algebra(values, SetRequest::union).await })
    }

    /// The set's items that are also in `values` (Python's `s & set(xs)`),
    /// in the set's order. The set itself is unchanged.
    ///
    /// # Errors
    ///
    /// As [`Set::union`].
    pub fn intersection<'a>(
        &self,
        values: impl IntoIterator<Item = &'a T>,
    ) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>>
    where
        T: 'a,
    {
        self.object
            .mode()
            .answer(async move { self.algebra(values, SetRequest::intersection).await })
    }

    /// The set's items that are not in `values` (Python's `s - set(xs)`), in
    /// the set's order. The set itself is unchanged.
    ///
    /// # Errors
    ///
    /// As [`Set::union`].
    pub fn difference<'a>(
        &self,
        values: impl IntoIterator<Item = &'a T>,
    ) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>>
    where
        T: 'a,
    {
        self.object
            .mode()
            .answer(async move { self.algebra(values, SetRequest::difference).await })
    }
}

impl<M: Mode> Client<M> {
    /// Finds or creates the set `name` of `T`s.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn set<T>(&self, name: &str) -> M::Answer<impl Future<Output = Result<Set<T, M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.object_in(name, ObjectSpec::Set).await?)) })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared set of `T`s; see [`proxy::Set`](super::Set).
    pub type Set<T> = super::Set<T, Blocking>;
}

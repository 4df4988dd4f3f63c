//! [`Dict`]: the async proxy of a shared dict from `K`s to `V`s in
//! insertion order, and [`Client::dict`], which finds or creates one.
//!
//! Keys are compared by their encoded bytes and type, not by `K`'s `Eq`:
//! two keys are the same key when they encode the same. Entries keep the
//! order their keys were first inserted in, as in Python.
//!
//! Methods that take a key take any `&Q` that `K` borrows as, as
//! `HashMap`'s do: a `Dict<String, V>` is used with `d.get("ada")`, a
//! `Dict<Vec<u8>, V>` with a `&[u8]`. The borrowed key is encoded under
//! `K`'s type tag, so it is the same key as the owned one. Integer keys are
//! width-exact: an `i32` 1 and an `i64` 1 are two keys.
//!
//! Each method is one request, applied whole before any other client's
//! next one: [`Dict::update`] of many entries lands as one block,
//! [`Dict::get_many`] reads its keys at one moment, [`Dict::remove_many`]
//! removes all of its keys or none, and [`Dict::add`],
//! [`Dict::setdefault`] and [`Dict::pop`] are atomic.
//!
//! # Types
//!
//! The methods that remove an entry and return it ([`Dict::remove`],
//! [`Dict::remove_many`], [`Dict::pop`], [`Dict::pop_or`],
//! [`Dict::popitem`]) tell the manager
//! which types they will decode it as. An entry stored as other types is not
//! removed: the call fails with
//! [`ManagerError::WrongType`](crate::ManagerError::WrongType) and the dict
//! is unchanged.

use std::borrow::Borrow;
use std::future::Future;

use manager_core::request::DictRequest;
use manager_core::{Encoded, ObjectSpec, TypeTag};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handle::Proxy;
use super::object::{encode, encode_key};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on a shared dict from `K`s to `V`s in insertion order, like Python's `Manager().dict()`.
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
/// let ages = client.dict::<String, i64>("ages").await?;
/// ages.insert("ada", &36).await?;
/// ages.update([("alan".to_owned(), 41), ("grace".to_owned(), 85)]).await?;
/// assert_eq!(ages.get("alan").await?, Some(41));
/// assert_eq!(ages.add("ada", 1).await?, 37);
/// assert_eq!(ages.keys().await?, ["ada", "alan", "grace"]);
/// assert_eq!(ages.popitem().await?, ("grace".to_owned(), 85));
/// // Many keys, in one request each.
/// assert_eq!(ages.get_many(["ada", "bob"]).await?, [Some(37), None]);
/// assert_eq!(ages.remove_many(["alan", "ada"]).await?, [Some(41), Some(37)]);
/// assert!(ages.is_empty().await?);
/// # Ok(())
/// # }
/// ```
pub type Dict<K, V, M = Async> = Proxy<marker::Dict<K, V>, M>;

kind_markers! {
    /// The kind of a [`Dict<K, V>`](super::Dict) proxy: it sees dicts, whose keys it reads as `K`s and values as `V`s.
    Dict<K, V> => Dict;
}

impl<K, V, M: Mode> Dict<K, V, M> {
    /// The number of entries (Python's `len(d)`).
    ///
    /// # Errors
    ///
    /// The errors of every call (see [`Client::call`](crate::Client::call)).
    pub fn len(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object.mode().answer(async move {
            let n = self.object.ask(DictRequest::len()).await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    /// Whether the dict has no entries.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn is_empty(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { Ok(self.object.call_len(DictRequest::len()).await? == 0) })
    }

    /// Removes every entry (Python's `d.clear()`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn clear(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_done(DictRequest::clear()).await })
    }
}

impl<K: Serialize, V, M: Mode> Dict<K, V, M> {
    /// Whether `key` is present (Python's `k in d`).
    ///
    /// # Errors
    ///
    /// [`Error::EncodeValue`] if the key cannot be encoded, and the errors
    /// of every call.
    pub fn contains_key<Q>(&self, key: &Q) -> M::Answer<impl Future<Output = Result<bool, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            self.object.ask(DictRequest::contains_key(key)).await
        })
    }
}

impl<K: Serialize, V: Serialize, M: Mode> Dict<K, V, M> {
    /// Sets many entries in one request (Python's `d.update(pairs)`); later
    /// pairs win over earlier ones with the same key. Takes owned pairs or
    /// pairs of references.
    ///
    /// This is the bulk insert (what `HashMap::extend` is to
    /// `HashMap::insert`); there is no separate `insert_many`. Unlike
    /// [`Dict::insert`] it does not return the old values.
    ///
    /// # Errors
    ///
    /// [`Error::EncodeValue`] if a key or value cannot be encoded (then
    /// nothing is sent), and the errors of every call.
    #[doc(alias = "insert_many")]
    #[doc(alias = "extend")]
    pub fn update<Q, W>(
        &self,
        items: impl IntoIterator<Item = (Q, W)>,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>>
    where
        Q: Borrow<K>,
        W: Borrow<V>,
    {
        self.object.mode().answer(async move {
            let items = items
                .into_iter()
                .map(|(k, v)| Ok((encode(k.borrow())?, encode(v.borrow())?)))
                .collect::<Result<Vec<_>, Error>>()?;
            self.object.call_done(DictRequest::update(items)).await
        })
    }
}

impl<K: Serialize, V: DeserializeOwned, M: Mode> Dict<K, V, M> {
    /// The value of `key`, if present (Python's `d.get(k)`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) (as
    /// [`Error::Manager`]) if the value was stored as another type than `V`,
    /// [`Error::EncodeValue`] if the key cannot be encoded, and the errors of
    /// every call.
    pub fn get<Q>(&self, key: &Q) -> M::Answer<impl Future<Output = Result<Option<V>, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            self.object.call_maybe(DictRequest::get(key)).await
        })
    }

    /// The values of many keys in one request: for each key, in the order
    /// given, its value or `None` if absent. All are read at one moment: no
    /// other client's request comes between two of them.
    ///
    /// # Errors
    ///
    /// As [`Dict::get`], for any of the keys.
    pub fn get_many<'a, Q>(
        &self,
        keys: impl IntoIterator<Item = &'a Q>,
    ) -> M::Answer<impl Future<Output = Result<Vec<Option<V>>, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
    {
        let keys = encode_keys::<K, Q>(keys);
        self.object.mode().answer(async move {
            let values = self.object.ask(DictRequest::get_many(keys?)).await?;
            self.decode_maybes(values)
        })
    }

    /// Removes many keys in one request; returns, for each key in the order
    /// given, the value it had or `None` if absent (a key given twice is
    /// absent the second time). Like a `remove` of each, but no other
    /// client's request comes between two of them.
    ///
    /// # Errors
    ///
    /// As [`Dict::get`]. If any of the values was stored as another type
    /// than `V`, none of the keys is removed.
    pub fn remove_many<'a, Q>(
        &self,
        keys: impl IntoIterator<Item = &'a Q>,
    ) -> M::Answer<impl Future<Output = Result<Vec<Option<V>>, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
    {
        let keys = encode_keys::<K, Q>(keys);
        self.object.mode().answer(async move {
            let expect = Some(TypeTag::of::<V>());
            let values = self
                .object
                .ask(DictRequest::remove_many(keys?, expect))
                .await?;
            self.decode_maybes(values)
        })
    }

    /// Decodes each value of a bulk reply that there is.
    fn decode_maybes(&self, values: Vec<Option<Encoded>>) -> Result<Vec<Option<V>>, Error> {
        values
            .iter()
            .map(|value| value.as_ref().map(|v| self.object.decode(v)).transpose())
            .collect()
    }

    /// Removes `key`; returns the value it had, if any (Python's
    /// `d.pop(k, None)`).
    ///
    /// # Errors
    ///
    /// As [`Dict::get`]; a value stored as another type than `V` is not
    /// removed.
    pub fn remove<Q>(&self, key: &Q) -> M::Answer<impl Future<Output = Result<Option<V>, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            self.object
                .call_maybe(DictRequest::remove(key, Some(TypeTag::of::<V>())))
                .await
        })
    }

    /// Removes `key` and returns its value (Python's `d.pop(k)`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::NoSuchKey`](crate::ManagerError::NoSuchKey) (as
    /// [`Error::Manager`]) if the key is absent, otherwise as [`Dict::get`];
    /// a value stored as another type than `V` is not removed.
    pub fn pop<Q>(&self, key: &Q) -> M::Answer<impl Future<Output = Result<V, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            self.object
                .call_value(DictRequest::pop(key, None, Some(TypeTag::of::<V>())))
                .await
        })
    }
}

impl<K: Serialize, V: Serialize + DeserializeOwned, M: Mode> Dict<K, V, M> {
    /// Sets `key` to `value`; returns the old value, if any (Python's
    /// `d[k] = v`). An existing key keeps its place in the order.
    ///
    /// # Errors
    ///
    /// As [`Dict::get`], and [`Error::EncodeValue`] for the value.
    pub fn insert<Q>(
        &self,
        key: &Q,
        value: &V,
    ) -> M::Answer<impl Future<Output = Result<Option<V>, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            let value = encode(value)?;
            self.object
                .call_maybe(DictRequest::insert(key, value))
                .await
        })
    }

    /// The value of `key`, setting it to `default` first if absent
    /// (Python's `d.setdefault(k, default)`), atomically.
    ///
    /// # Errors
    ///
    /// As [`Dict::insert`].
    pub fn setdefault<Q>(
        &self,
        key: &Q,
        default: &V,
    ) -> M::Answer<impl Future<Output = Result<V, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            let default = encode(default)?;
            self.object
                .call_value(DictRequest::set_default(key, default))
                .await
        })
    }

    /// Removes `key` and returns its value, or `default` if it is absent
    /// (Python's `d.pop(k, default)`).
    ///
    /// # Errors
    ///
    /// As [`Dict::insert`]; a value stored as another type than `V` is not
    /// removed.
    pub fn pop_or<Q>(
        &self,
        key: &Q,
        default: &V,
    ) -> M::Answer<impl Future<Output = Result<V, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            let default = Some(encode(default)?);
            self.object
                .call_value(DictRequest::pop(key, default, Some(TypeTag::of::<V>())))
                .await
        })
    }
}

impl<K: DeserializeOwned, V, M: Mode> Dict<K, V, M> {
    /// Every key, in insertion order (Python's `list(d.keys())`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if a key
    /// was stored as another type than `K`, and the errors of every call.
    pub fn keys(&self) -> M::Answer<impl Future<Output = Result<Vec<K>, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_values(DictRequest::keys()).await })
    }
}

impl<K, V: DeserializeOwned, M: Mode> Dict<K, V, M> {
    /// Every value, in insertion order (Python's `list(d.values())`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if a
    /// value was stored as another type than `V`, and the errors of every
    /// call.
    pub fn values(&self) -> M::Answer<impl Future<Output = Result<Vec<V>, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_values(DictRequest::values()).await })
    }
}

impl<K: DeserializeOwned, V: DeserializeOwned, M: Mode> Dict<K, V, M> {
    /// Every entry, in insertion order, read in one request (Python's
    /// `list(d.items())`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if a key
    /// or value was stored as another type, and the errors of every call.
    pub fn items(&self) -> M::Answer<impl Future<Output = Result<Vec<(K, V)>, Error>>> {
        self.object.mode().answer(self.items_into())
    }

    /// Every entry, decoded into any collection of pairs.
    async fn items_into<C: FromIterator<(K, V)>>(&self) -> Result<C, Error> {
        let pairs: Vec<(Encoded, Encoded)> = self.object.ask(DictRequest::items()).await?;
        pairs
            .iter()
            .map(|(k, v)| Ok((self.object.decode(k)?, self.object.decode(v)?)))
            .collect()
    }

    /// Every entry, read in one request, collected into any collection of
    /// pairs: a `HashMap`, a `BTreeMap`, a `Vec<(K, V)>`...
    ///
    /// # Errors
    ///
    /// As [`Dict::items`].
    pub fn snapshot<C: FromIterator<(K, V)>>(
        &self,
    ) -> M::Answer<impl Future<Output = Result<C, Error>>> {
        self.object.mode().answer(self.items_into())
    }

    /// Removes and returns the last inserted entry (Python's
    /// `d.popitem()`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::Empty`](crate::ManagerError::Empty) (as
    /// [`Error::Manager`]) if the dict is empty, otherwise as [`Dict::items`];
    /// an entry whose key or value was stored as another type than `K` or
    /// `V` is not removed.
    pub fn popitem(&self) -> M::Answer<impl Future<Output = Result<(K, V), Error>>> {
        self.object.mode().answer(async move {
            let expect = Some((TypeTag::of::<K>(), TypeTag::of::<V>()));
            let (k, v): (Encoded, Encoded) = self.object.ask(DictRequest::pop_item(expect)).await?;
            Ok((self.object.decode(&k)?, self.object.decode(&v)?))
        })
    }
}

/// `V` is an integer type, of any width.
impl<K: Serialize, V: TryFrom<i64>, M: Mode> Dict<K, V, M> {
    /// Adds `delta` to the integer at `key` (absent counts as a 0 of type
    /// `V`) and returns the new value, atomically: no update from any
    /// process is lost. The sum is checked and stored in the width the entry
    /// is stored in (`V` for a new entry).
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if the
    /// key holds something other than an integer,
    /// [`ManagerError::Overflow`](crate::ManagerError::Overflow) if the sum
    /// overflows its type or the `i64` returned (both as [`Error::Manager`];
    /// the entry is unchanged), and as
    /// [`Dict::contains_key`].
    pub fn add<Q>(&self, key: &Q, delta: i64) -> M::Answer<impl Future<Output = Result<i64, Error>>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.object.mode().answer(async move {
            let key = encode_key::<K, Q>(key)?;
            self.object
                .ask(DictRequest::add(key, delta, Some(TypeTag::of::<V>())))
                .await
        })
    }
}

/// Encodes many keys under `K`'s type tag, for one bulk request.
fn encode_keys<'a, K, Q>(keys: impl IntoIterator<Item = &'a Q>) -> Result<Vec<Encoded>, Error>
where
    K: Borrow<Q>,
    Q: Serialize + ?Sized + 'a,
{
    keys.into_iter().map(encode_key::<K, Q>).collect()
}

impl<M: Mode> Client<M> {
    /// Finds or creates the dict `name` from `K`s to `V`s.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn dict<K, V>(
        &self,
        name: &str,
    ) -> M::Answer<impl Future<Output = Result<Dict<K, V, M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.object_in(name, ObjectSpec::Dict).await?)) })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared dict; see [`proxy::Dict`](super::Dict).
    pub type Dict<K, V> = super::Dict<K, V, Blocking>;
}

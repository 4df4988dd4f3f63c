//! [`Dict`]: the blocking proxies; see [`crate::proxy`] for what each method does.

use std::borrow::Borrow;
use std::time::Duration;

use manager_core::{ObjectId, ObjectName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Runner;
use crate::{Error, proxy};

/// The blocking handle of [`proxy::Dict`].
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let words = manager.connect()?.dict::<String, i64>("words")?;
/// for word in ["to", "be", "or", "not", "to", "be"] {
///     words.add(word, 1)?; // a `&str` for a `String` key, as in a `HashMap`
/// }
/// assert_eq!(words.get("be")?, Some(2));
/// assert_eq!(words.keys()?, ["to", "be", "or", "not"]);
/// assert!(words.pop("xyz").is_err(), "no such key");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Dict<K, V> {
    inner: proxy::Dict<K, V>,
    runtime: Runner,
}

impl<K, V> Clone for Dict<K, V> {
    fn clone(&self) -> Self {
        Dict {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for Dict<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dict").field("inner", &self.inner).finish()
    }
}

impl<K, V> Dict<K, V> {
    pub(crate) fn new(inner: proxy::Dict<K, V>, runtime: Runner) -> Self {
        Dict { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Dict<K, V> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::Dict::len`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn len(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.len())
    }

    /// See [`proxy::Dict::is_empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_empty())
    }

    /// See [`proxy::Dict::clear`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn clear(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.clear())
    }
}

impl<K: Serialize, V> Dict<K, V> {
    /// See [`proxy::Dict::contains_key`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn contains_key<Q>(&self, key: &Q) -> Result<bool, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.contains_key(key))
    }
}

impl<K: Serialize, V: Serialize> Dict<K, V> {
    /// See [`proxy::Dict::update`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn update<Q, W>(&self, items: impl IntoIterator<Item = (Q, W)>) -> Result<(), Error>
    where
        Q: Borrow<K>,
        W: Borrow<V>,
    {
        self.runtime.run(self.inner.update(items))
    }
}

impl<K: Serialize, V: DeserializeOwned> Dict<K, V> {
    /// See [`proxy::Dict::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get<Q>(&self, key: &Q) -> Result<Option<V>, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.get(key))
    }

    /// See [`proxy::Dict::remove`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn remove<Q>(&self, key: &Q) -> Result<Option<V>, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.remove(key))
    }

    /// See [`proxy::Dict::pop`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn pop<Q>(&self, key: &Q) -> Result<V, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.pop(key))
    }
}

impl<K: Serialize, V: Serialize + DeserializeOwned> Dict<K, V> {
    /// See [`proxy::Dict::insert`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn insert<Q>(&self, key: &Q, value: &V) -> Result<Option<V>, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.insert(key, value))
    }

    /// See [`proxy::Dict::setdefault`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn setdefault<Q>(&self, key: &Q, default: &V) -> Result<V, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.setdefault(key, default))
    }

    /// See [`proxy::Dict::pop_or`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn pop_or<Q>(&self, key: &Q, default: &V) -> Result<V, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.pop_or(key, default))
    }
}

impl<K: DeserializeOwned, V> Dict<K, V> {
    /// See [`proxy::Dict::keys`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn keys(&self) -> Result<Vec<K>, Error> {
        self.runtime.run(self.inner.keys())
    }
}

impl<K, V: DeserializeOwned> Dict<K, V> {
    /// See [`proxy::Dict::values`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn values(&self) -> Result<Vec<V>, Error> {
        self.runtime.run(self.inner.values())
    }
}

impl<K: DeserializeOwned, V: DeserializeOwned> Dict<K, V> {
    /// See [`proxy::Dict::items`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn items(&self) -> Result<Vec<(K, V)>, Error> {
        self.runtime.run(self.inner.items())
    }

    /// See [`proxy::Dict::snapshot`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn snapshot<M: FromIterator<(K, V)>>(&self) -> Result<M, Error> {
        self.runtime.run(self.inner.snapshot())
    }

    /// See [`proxy::Dict::popitem`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn popitem(&self) -> Result<(K, V), Error> {
        self.runtime.run(self.inner.popitem())
    }
}

/// `V` is an integer type, of any width.
impl<K: Serialize, V: TryFrom<i64>> Dict<K, V> {
    /// See [`proxy::Dict::add`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn add<Q>(&self, key: &Q, delta: i64) -> Result<i64, Error>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.add(key, delta))
    }
}

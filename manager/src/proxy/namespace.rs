//! [`Namespace`]: the async proxy of a shared namespace, and
//! [`Client::namespace`], which finds or creates one.

use std::future::Future;

use manager_core::reply::{ReplyShape, Swapped};
use manager_core::request::{Call, NamespaceRequest};
use manager_core::{Encoded, ManagerError, ObjectName, ObjectSpec};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handle::Proxy;
use super::object::encode;
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on a shared namespace: named attributes of any serde type, plus
/// atomic updates.
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
/// let ns = client.namespace("job").await?;
/// ns.set("name", "resize images").await?;
/// ns.set("done", &0_i64).await?;
/// ns.add("done", 3).await?;
/// assert_eq!(ns.get::<String>("name").await?, "resize images");
/// assert_eq!(ns.get::<i64>("done").await?, 3);
/// // Many attributes of one type, in one request each way.
/// ns.update([("width", &640_u32), ("height", &480)]).await?;
/// let sizes = ns.get_many::<u32>(["width", "depth", "height"]).await?;
/// assert_eq!(sizes, [Some(640), None, Some(480)]);
/// # Ok(())
/// # }
/// ```
pub type Namespace<M = Async> = Proxy<marker::Namespace, M>;

kind_markers! {
    /// The kind of a [`Namespace`](super::Namespace) proxy: it sees namespaces.
    Namespace => Namespace;
}

impl<M: Mode> Namespace<M> {
    fn request<S: ReplyShape>(&self, call: Call<S>) -> impl Future<Output = Result<S, Error>> + '_ {
        self.object.ask(call)
    }

    /// Names `attribute` in errors; formatted only if one occurs.
    fn what<'a>(&'a self, attribute: &'a str) -> impl std::fmt::Display + 'a {
        AttributeOf {
            attribute,
            namespace: self.object.name(),
        }
    }

    /// Sets `attribute` to `value` (Python's `ns.x = v`).
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if the value cannot be encoded, and the errors of
    /// every call (see [`Client::call`](crate::Client::call)).
    pub fn set<T: Serialize + ?Sized>(
        &self,
        attribute: &str,
        value: &T,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.request::<()>(NamespaceRequest::set(attribute.to_owned(), value))
                .await
        })
    }

    /// Sets many attributes of one type in one request, in order: a later
    /// pair of the same name wins. No other client's request sees some of
    /// them set and not the others.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if a value cannot be encoded (then nothing is
    /// sent), and the errors of every call (see
    /// [`Client::call`](crate::Client::call)).
    pub fn update<'a, N: AsRef<str>, T: Serialize + ?Sized + 'a>(
        &self,
        items: impl IntoIterator<Item = (N, &'a T)>,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        let items = items
            .into_iter()
            .map(|(attribute, value)| Ok((attribute.as_ref().to_owned(), encode(value)?)))
            .collect::<Result<Vec<_>, Error>>();
        self.object
            .mode()
            .answer(async move { self.request::<()>(NamespaceRequest::update(items?)).await })
    }

    /// Reads many attributes as `T`s in one request: for each, in the
    /// order asked, its value or `None` if it is not set. All are read at
    /// one moment: no other client's request comes between two of them.
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`] (as [`Error::Manager`]) if one that is
    /// set holds another type, and the errors of every call.
    pub fn get_many<T: DeserializeOwned>(
        &self,
        attributes: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> M::Answer<impl Future<Output = Result<Vec<Option<T>>, Error>>> {
        let attributes: Vec<String> = attributes
            .into_iter()
            .map(|attribute| attribute.as_ref().to_owned())
            .collect();
        self.object.mode().answer(async move {
            let values = self
                .request(NamespaceRequest::get_many(attributes.clone()))
                .await?;
            values
                .into_iter()
                .zip(&attributes)
                .map(|(value, attribute)| {
                    Ok(value.map(|v| v.decode(self.what(attribute))).transpose()?)
                })
                .collect()
        })
    }

    /// Reads `attribute` as a `T` (Python's `ns.x`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::NoSuchAttribute`] if it is not set, and
    /// [`ManagerError::WrongType`] if it holds another type (both as
    /// [`Error::Manager`]).
    pub fn get<T: DeserializeOwned>(
        &self,
        attribute: &str,
    ) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object.mode().answer(self.get_in(attribute))
    }

    async fn get_in<T: DeserializeOwned>(&self, attribute: &str) -> Result<T, Error> {
        let value: Encoded = self
            .request(NamespaceRequest::get(attribute.to_owned()))
            .await?;
        Ok(value.decode(self.what(attribute))?)
    }

    /// Reads `attribute` as a `T`, or `None` if it is not set.
    ///
    /// # Errors
    ///
    /// As [`Namespace::get`], except that a missing attribute is `Ok(None)`.
    pub fn try_get<T: DeserializeOwned>(
        &self,
        attribute: &str,
    ) -> M::Answer<impl Future<Output = Result<Option<T>, Error>>> {
        self.object.mode().answer(async move {
            match self.get_in(attribute).await {
                Ok(value) => Ok(Some(value)),
                Err(Error::Manager(ManagerError::NoSuchAttribute { .. })) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// Deletes `attribute`; returns whether it was set.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn delete(&self, attribute: &str) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object.mode().answer(async move {
            self.request::<bool>(NamespaceRequest::delete(attribute.to_owned()))
                .await
        })
    }

    /// Whether `attribute` is set (Python's `hasattr`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn contains(
        &self,
        attribute: &str,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object.mode().answer(async move {
            self.request::<bool>(NamespaceRequest::contains(attribute.to_owned()))
                .await
        })
    }

    /// The names of the attributes, sorted.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn names(&self) -> M::Answer<impl Future<Output = Result<Vec<String>, Error>>> {
        self.object
            .mode()
            .answer(async move { self.request(NamespaceRequest::names()).await })
    }

    /// Every attribute with its value, read in one request.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn snapshot(&self) -> M::Answer<impl Future<Output = Result<NamespaceSnapshot, Error>>> {
        self.object.mode().answer(async move {
            let attributes = self.request(NamespaceRequest::snapshot()).await?;
            Ok(NamespaceSnapshot {
                namespace: self.object.name().clone(),
                attributes,
            })
        })
    }

    /// Sets `attribute` only if it is not set; returns whether it was set by
    /// this call. Atomic: of many processes racing, exactly one wins.
    ///
    /// # Errors
    ///
    /// As [`Namespace::set`].
    pub fn set_if_absent<T: Serialize + ?Sized>(
        &self,
        attribute: &str,
        value: &T,
    ) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.request::<bool>(NamespaceRequest::set_if_absent(attribute.to_owned(), value))
                .await
        })
    }

    /// Stores `new` if `attribute` now holds `expected` (`None`: is not set).
    ///
    /// Returns `Ok(Ok(()))` if it swapped, and `Ok(Err(current))` with what
    /// the attribute holds instead if not, like
    /// [`AtomicU64::compare_exchange`](std::sync::atomic::AtomicU64::compare_exchange).
    ///
    /// # Errors
    ///
    /// As [`Namespace::set`], and [`ManagerError::WrongType`] if the current
    /// value is of another type than `T`.
    pub fn compare_and_swap<T: Serialize + DeserializeOwned>(
        &self,
        attribute: &str,
        expected: Option<&T>,
        new: &T,
    ) -> M::Answer<impl Future<Output = Result<Result<(), Option<T>>, Error>>> {
        self.object.mode().answer(async move {
            let expected = expected.map(encode).transpose()?;
            let new = encode(new)?;
            let Swapped { swapped, current } = self
                .request(NamespaceRequest::compare_and_swap(
                    attribute.to_owned(),
                    expected,
                    new,
                ))
                .await?;
            if swapped {
                return Ok(Ok(()));
            }
            let current = current
                .map(|v| v.decode(self.what(attribute)))
                .transpose()?;
            Ok(Err(current))
        })
    }

    /// Adds `delta` to the integer in `attribute` (not set counts as an
    /// `i64` 0) and returns the new value, atomically: no update from any
    /// process is lost. The integer may be of any width (`set("n", &0)`
    /// stores an `i32`); the sum is stored in that same width.
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`] if the attribute holds something other
    /// than an integer, and [`ManagerError::Overflow`] if the sum overflows
    /// the attribute's type, or the `i64` returned (the attribute is then
    /// unchanged).
    pub fn add(
        &self,
        attribute: &str,
        delta: i64,
    ) -> M::Answer<impl Future<Output = Result<i64, Error>>> {
        self.object.mode().answer(async move {
            self.request(NamespaceRequest::add(attribute.to_owned(), delta))
                .await
        })
    }
}

/// Every attribute of a namespace at one moment, as [`Namespace::snapshot`]
/// read it.
///
/// Its `Debug` reads as Python's `repr` of a namespace, each value shown
/// without knowing its type where it is a number, `bool`, `char`, string or
/// `()`, and as its type and size otherwise (see [`Encoded`]):
/// `Namespace(hits=3, name="bob", job=<app::Job, 24 bytes>)`.
#[derive(Clone, PartialEq, Eq)]
pub struct NamespaceSnapshot {
    namespace: ObjectName,
    attributes: Vec<(String, Encoded)>,
}

impl std::fmt::Debug for NamespaceSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Namespace(")?;
        for (i, (name, value)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={value:?}")?;
        }
        f.write_str(")")
    }
}

impl NamespaceSnapshot {
    /// The attribute names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|(name, _)| name.as_str())
    }

    /// Each attribute with its raw value, sorted by name; decode a value with
    /// [`Encoded::decode`] or [`NamespaceSnapshot::get`].
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Encoded)> {
        self.attributes
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// How many attributes there were.
    pub fn len(&self) -> usize {
        self.attributes.len()
    }

    /// Whether there were none.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }

    /// The raw value of `attribute`, if it was set.
    pub fn value(&self, attribute: &str) -> Option<&Encoded> {
        self.attributes
            .binary_search_by(|(name, _)| name.as_str().cmp(attribute))
            .ok()
            .map(|i| &self.attributes[i].1)
    }

    /// Decodes `attribute` as a `T`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NoSuchAttribute`] or [`ManagerError::WrongType`].
    pub fn get<T: DeserializeOwned>(&self, attribute: &str) -> Result<T, ManagerError> {
        let value = self
            .value(attribute)
            .ok_or_else(|| ManagerError::NoSuchAttribute {
                namespace: self.namespace.to_string(),
                attribute: attribute.to_owned(),
            })?;
        value.decode(format_args!(
            "attribute `{attribute}` of namespace `{}`",
            self.namespace
        ))
    }
}

/// "attribute `x` of namespace `cfg`", written only when displayed.
struct AttributeOf<'a> {
    attribute: &'a str,
    namespace: &'a ObjectName,
}

impl std::fmt::Display for AttributeOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attribute `{}` of namespace `{}`",
            self.attribute, self.namespace
        )
    }
}

impl<M: Mode> Client<M> {
    /// Finds or creates the namespace `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub fn namespace(
        &self,
        name: &str,
    ) -> M::Answer<impl Future<Output = Result<Namespace<M>, Error>>> {
        self.mode().answer(async move {
            Ok(Proxy::new(
                self.object_in(name, ObjectSpec::Namespace).await?,
            ))
        })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared namespace; see [`proxy::Namespace`](super::Namespace).
    pub type Namespace = super::Namespace<Blocking>;
}

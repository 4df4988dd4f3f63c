//! [`Array`]: the async proxy of a shared fixed-length sequence of `T`s,
//! and [`Client::array`], which finds or creates one.
//!
//! The length is set when the array is created (by the first
//! [`Client::array`](crate::Client::array) for its name) and never changes.
//! Indices are `i64` and follow Python: `-1` is the last element, and
//! [`Array::get_range`] clamps like a slice. [`Array::set_range`] must fit
//! inside the array; one that does not fails whole and changes nothing.

use std::future::Future;

use manager_core::ObjectSpec;
use manager_core::request::ArrayRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handle::Proxy;
use super::object::{encode, encode_all};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on a shared fixed-length sequence of `T`s, like Python's `Manager().Array()`.
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
/// let pixels = client.array("pixels", &[0_u8; 6]).await?;
/// pixels.set(-1, &255).await?;
/// pixels.set_range(1, &[7, 8]).await?;
/// assert_eq!(pixels.snapshot().await?, [0, 7, 8, 0, 0, 255]);
/// assert_eq!(pixels.get_range(Some(-2), None).await?, [0, 255]);
/// // Writing past the end fails and changes nothing.
/// assert!(pixels.set_range(5, &[1, 2]).await.is_err());
/// assert_eq!(pixels.len().await?, 6);
/// # Ok(())
/// # }
/// ```
pub type Array<T, M = Async> = Proxy<marker::Array<T>, M>;

kind_markers! {
    /// The kind of an [`Array<T>`](super::Array) proxy: it sees arrays, whose items it reads as `T`s.
    Array<T> => Array;
}

impl<T, M: Mode> Array<T, M> {
    /// The length, fixed when the array was created (Python's `len(a)`).
    ///
    /// # Errors
    ///
    /// The errors of every call (see [`Client::call`](crate::Client::call)).
    pub fn len(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object.mode().answer(async move {
            let n = self.object.ask(ArrayRequest::len()).await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    /// Whether the array has no elements.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn is_empty(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { Ok(self.object.call_len(ArrayRequest::len()).await? == 0) })
    }
}

impl<T: Serialize, M: Mode> Array<T, M> {
    /// Replaces the element at `index` (Python's `a[i] = x`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::IndexOutOfRange`](crate::ManagerError::IndexOutOfRange)
    /// (as [`Error::Manager`]) if `index` is outside the array,
    /// [`Error::EncodeValue`] if the value cannot be encoded, and the errors
    /// of every call.
    pub fn set(&self, index: i64, value: &T) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.object.call_done(ArrayRequest::set(index, value)).await
        })
    }

    /// Replaces the elements from `start` on with `values`, in one request
    /// (Python's `a[start:start + len(xs)] = xs`). A negative `start` counts
    /// from the end.
    ///
    /// # Errors
    ///
    /// [`ManagerError::IndexOutOfRange`](crate::ManagerError::IndexOutOfRange)
    /// if the values do not fit inside the array (then nothing changes),
    /// otherwise as [`Array::set`].
    pub fn set_range<'a>(
        &self,
        start: i64,
        values: impl IntoIterator<Item = &'a T>,
    ) -> M::Answer<impl Future<Output = Result<(), Error>>>
    where
        T: 'a,
    {
        self.object.mode().answer(async move {
            let values = encode_all(values)?;
            self.object
                .call_done(ArrayRequest::set_range(start, values))
                .await
        })
    }
}

impl<T: DeserializeOwned, M: Mode> Array<T, M> {
    /// The element at `index` (Python's `a[i]`; `-1` is the last).
    ///
    /// # Errors
    ///
    /// [`ManagerError::IndexOutOfRange`](crate::ManagerError::IndexOutOfRange)
    /// if `index` is outside the array,
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if the
    /// element was stored as another type than `T` (both as
    /// [`Error::Manager`]), and the errors of every call.
    pub fn get(&self, index: i64) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_value(ArrayRequest::get(index)).await })
    }

    /// A copy of `a[start:stop]` (`None`: from the start, to the end), with
    /// Python's slice rules: negative bounds count from the end, bounds
    /// outside the array are clamped, never an error.
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if an
    /// element was stored as another type, and the errors of every call.
    pub fn get_range(
        &self,
        start: Option<i64>,
        stop: Option<i64>,
    ) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>> {
        self.object.mode().answer(async move {
            self.object
                .call_values(ArrayRequest::get_range(start, stop))
                .await
        })
    }

    /// Every element, read in one request.
    ///
    /// # Errors
    ///
    /// As [`Array::get_range`].
    pub fn snapshot(&self) -> M::Answer<impl Future<Output = Result<Vec<T>, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_values(ArrayRequest::snapshot()).await })
    }
}

impl<M: Mode> Client<M> {
    /// Finds the array `name`, or creates it holding `items` (its length is
    /// fixed from then on).
    ///
    /// # Errors
    ///
    /// As [`Client::value`].
    pub fn array<T: Serialize>(
        &self,
        name: &str,
        items: &[T],
    ) -> M::Answer<impl Future<Output = Result<Array<T, M>, Error>>> {
        self.mode().answer(async move {
            let spec = ObjectSpec::Array {
                items: encode_all(items)?,
            };
            Ok(Proxy::new(self.object_in(name, spec).await?))
        })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared fixed-length array; see [`proxy::Array`](super::Array).
    pub type Array<T> = super::Array<T, Blocking>;
}

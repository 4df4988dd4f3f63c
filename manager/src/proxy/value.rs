//! [`Value`]: the async proxy of one shared `T`, and [`Client::value`],
//! which finds or creates one.
//!
//! Each method is one request, applied whole before any other client's
//! next one, so [`Value::swap`], [`Value::compare_and_swap`] and (for an
//! `i64`) [`Value::add`] are atomic: four processes doing 500 adds each end
//! at exactly 2,000. Python's `v.value += 1` is a read and a write, and
//! loses updates when processes race.

use std::future::Future;

use manager_core::ManagerError;
use manager_core::ObjectSpec;
use manager_core::reply::Swapped;
use manager_core::request::ValueRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handle::Proxy;
use super::object::encode;
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on one shared `T`, like Python's `Manager().Value()`.
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
/// let hits = client.value("hits", &0_i64).await?;
/// assert_eq!(hits.add(5).await?, 5);
/// assert_eq!(hits.sub(2).await?, 3);
/// assert_eq!(hits.compare_and_swap(&3, &10).await?, Ok(()));
/// assert_eq!(hits.compare_and_swap(&3, &20).await?, Err(10), "it holds 10 now");
/// assert_eq!(hits.swap(&0).await?, 10);
/// assert_eq!(hits.get().await?, 0);
/// # Ok(())
/// # }
/// ```
pub type Value<T, M = Async> = Proxy<marker::Value<T>, M>;

kind_markers! {
    /// The kind of a [`Value<T>`](super::Value) proxy: it sees values, which it reads as `T`s.
    Value<T> => Value;
}

impl<T, M: Mode> Value<T, M> {}

impl<T: Serialize, M: Mode> Value<T, M> {
    /// Replaces the value (Python's `v.value = x`).
    ///
    /// # Errors
    ///
    /// [`Error::EncodeValue`] if the value cannot be encoded, and the errors
    /// of every call (see [`Client::call`](crate::Client::call)).
    pub fn set(&self, value: &T) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.object.call_done(ValueRequest::set(value)).await
        })
    }
}

impl<T: DeserializeOwned, M: Mode> Value<T, M> {
    /// The value (Python's `v.value`).
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`] (as [`Error::Manager`]) if it was stored
    /// as another type than `T`, and the errors of every call.
    pub fn get(&self) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_value(ValueRequest::get()).await })
    }
}

impl<T: Serialize + DeserializeOwned, M: Mode> Value<T, M> {
    /// Replaces the value and returns the old one, atomically.
    ///
    /// # Errors
    ///
    /// As [`Value::set`] and [`Value::get`].
    pub fn swap(&self, value: &T) -> M::Answer<impl Future<Output = Result<T, Error>>> {
        self.object.mode().answer(async move {
            let value = encode(value)?;
            self.object.call_value(ValueRequest::swap(value)).await
        })
    }

    /// Stores `new` if the value now equals `expected` (compared by encoded
    /// bytes and type).
    ///
    /// Returns `Ok(Ok(()))` if it swapped, and `Ok(Err(current))` with what
    /// the value holds instead if not, like
    /// [`AtomicU64::compare_exchange`](std::sync::atomic::AtomicU64::compare_exchange).
    ///
    /// # Errors
    ///
    /// As [`Value::swap`].
    pub fn compare_and_swap(
        &self,
        expected: &T,
        new: &T,
    ) -> M::Answer<impl Future<Output = Result<Result<(), T>, Error>>> {
        self.object
            .mode()
            .answer(self.compare_and_swap_in(expected, new))
    }

    async fn compare_and_swap_in(&self, expected: &T, new: &T) -> Result<Result<(), T>, Error> {
        let expected = encode(expected)?;
        let new = encode(new)?;
        let swapped: Swapped = self
            .object
            .ask(ValueRequest::compare_and_swap(expected, new))
            .await?;
        match swapped {
            Swapped { swapped: true, .. } => Ok(Ok(())),
            Swapped {
                current: Some(current),
                ..
            } => Ok(Err(self.object.decode(&current)?)),
            Swapped { current: None, .. } => Err(self
                .object
                .protocol_error("a value not swapped, with no value")),
        }
    }
}

/// `T` is an integer type: `i64`, or any other width (`Value<i32>`, as
/// `client.value("n", &0)` makes).
impl<T: TryFrom<i64>, M: Mode> Value<T, M> {
    /// Adds `delta` and returns the new value, atomically: no update from
    /// any process is lost. The sum is checked and stored in the width the
    /// value is stored in.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Overflow`] if the sum overflows the width the value
    /// is stored in, or the `i64` returned (the value is unchanged),
    /// [`ManagerError::WrongType`] if the value holds no integer (both as
    /// [`Error::Manager`]), and the errors of every call.
    pub fn add(&self, delta: i64) -> M::Answer<impl Future<Output = Result<i64, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.ask(ValueRequest::add(delta)).await })
    }
}

impl<M: Mode> Value<i64, M> {
    /// Subtracts `delta` and returns the new value, atomically.
    ///
    /// # Errors
    ///
    /// As [`Value::add`]. Subtracting `i64::MIN`, whose negation is no
    /// `i64`, is done with a compare-and-swap loop instead of one add; if it
    /// overflows, the [`ManagerError::Overflow`] carries `delta: i64::MIN`
    /// (its message then speaks of adding where it means subtracting).
    pub fn sub(&self, delta: i64) -> M::Answer<impl Future<Output = Result<i64, Error>>> {
        self.object.mode().answer(async move {
            if let Some(negated) = delta.checked_neg() {
                return self.object.ask(ValueRequest::add(negated)).await;
            }
            let mut current: i64 = self.object.call_value(ValueRequest::get()).await?;
            loop {
                let next = current
                    .checked_sub(delta)
                    .ok_or_else(|| ManagerError::Overflow {
                        what: self.object.what(),
                        current: current.to_string(),
                        delta,
                        stored: "i64".to_owned(),
                        bound: "i64".to_owned(),
                    })?;
                match self.compare_and_swap_in(&current, &next).await? {
                    Ok(()) => return Ok(next),
                    Err(now) => current = now,
                }
            }
        })
    }
}

impl<M: Mode> Client<M> {
    /// Finds the value `name`, or creates it holding `initial`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`], and [`Error::EncodeValue`].
    pub fn value<T: Serialize>(
        &self,
        name: &str,
        initial: &T,
    ) -> M::Answer<impl Future<Output = Result<Value<T, M>, Error>>> {
        self.mode().answer(async move {
            let spec = ObjectSpec::Value {
                initial: encode(initial)?,
            };
            Ok(Proxy::new(self.object_in(name, spec).await?))
        })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared value; see [`proxy::Value`](super::Value).
    pub type Value<T> = super::Value<T, Blocking>;
}

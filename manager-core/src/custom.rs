//! [`CustomType`]: the wire side of an application's own shared object
//! type, Python's `BaseManager.register(typeid, ...)`.
//!
//! A custom type is three serde types under one registered name: what
//! creating an object takes ([`CustomType::Init`]), the requests it
//! accepts ([`CustomType::Request`]) and what it answers
//! ([`CustomType::Reply`]). Clients need only this trait to create, find
//! and call such objects. The manager also needs the behaviour, which
//! `manager_actors::CustomObject` adds on top; the two usually live in one
//! module of the application that both the manager and the workers link.
//!
//! On the wire, a create is [`ObjectSpec::Custom`](crate::ObjectSpec::Custom)
//! with the encoded `Init`, a call is
//! [`ObjectRequest::Custom`](crate::request::ObjectRequest::Custom) with the
//! encoded `Request`, and the answer is a `Value` holding the encoded
//! `Reply`. The values carry type tags like every other value, so a request
//! of the wrong type is refused with `WrongType` instead of misread.
//!
//! # Errors
//!
//! The type's own failures belong in its `Reply` (for example
//! `Result<u64, LedgerError>`): they reach the caller typed, and the
//! object goes on serving.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ManagerError, TypeName};

/// An application's shared object type as clients see it.
///
/// # Examples
///
/// ```
/// use manager_core::custom::CustomType;
/// use serde::{Deserialize, Serialize};
///
/// /// A shared counter of named events.
/// struct Tally;
///
/// #[derive(Serialize, Deserialize)]
/// enum TallyRequest {
///     Count(String),
///     Total(String),
/// }
///
/// impl CustomType for Tally {
///     const TYPE_NAME: &'static str = "tally";
///     type Init = ();
///     type Request = TallyRequest;
///     type Reply = u64;
/// }
///
/// assert_eq!(Tally::type_name()?.as_str(), "tally");
/// # Ok::<(), manager_core::ManagerError>(())
/// ```
pub trait CustomType {
    /// The name the type is registered under, the same in every process
    /// (see [`TypeName`] for what it may hold).
    const TYPE_NAME: &'static str;
    /// What creating an object takes.
    type Init: Serialize + DeserializeOwned;
    /// The operations, usually an enum.
    type Request: Serialize + DeserializeOwned;
    /// What each operation answers.
    type Reply: Serialize + DeserializeOwned;

    /// [`Self::TYPE_NAME`], checked.
    ///
    /// # Errors
    ///
    /// [`ManagerError::InvalidName`] if it is not a valid [`TypeName`].
    fn type_name() -> Result<TypeName, ManagerError> {
        TypeName::new(Self::TYPE_NAME)
    }
}

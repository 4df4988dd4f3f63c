//! [`CustomType`]: the wire side of an application's own shared object
//! type, Python's `BaseManager.register(typeid, ...)`.
//!
//! A custom type is three serde types under one registered name: what
//! creating an object takes ([`CustomType::Init`]), the requests it
//! accepts ([`CustomType::Request`]) and what it answers
//! ([`CustomType::Reply`]). Clients need only this trait to create, find
//! and call such objects. The manager also needs the behaviour, which
//! `manager_actors::CustomObject` adds on top (or, for a type whose
//! requests may wait, `manager_actors::CustomKind`, a state written
//! against the trait the built-in kinds implement); the two usually live
//! in one module of the application that both the manager and the
//! workers link.
//!
//! On the wire, a create is [`ObjectSpec::Custom`](crate::ObjectSpec::Custom)
//! with the encoded `Init`, a call is [`ObjectRequest::Custom`] with the
//! encoded `Request`, and the answer is a `Value` holding the encoded
//! `Reply`. The values carry type tags like every other value, so a request
//! of the wrong type is refused with `WrongType` instead of misread.
//!
//! # Waiting
//!
//! A request that may wait in the manager (a blocking pop, "wait until the
//! count reaches 10") carries a [`Wait`] and says where it is
//! ([`CustomType::wait_mut`]), as a built-in queue `get` does: a client
//! whose handle has a timeout then bounds that wait by it before it sends
//! the request, and takes the request back from the object
//! ([`ObjectRequest::Cancel`]) if it gives up first. A request that may
//! take something (an item, a lease) says so ([`CustomType::may_take`]) and how to give it back
//! ([`CustomType::undo_for`]). In the manager such a type's state sees its
//! requests as [`CustomRequest`], the typed request with those answers.
//!
//! # Errors
//!
//! The type's own failures belong in its `Reply` (for example
//! `Result<u64, LedgerError>`): they reach the caller typed, and the
//! object goes on serving.

use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::reply::Reply;
use crate::request::{KindRequest, NotTaken, ObjectRequest, Wait};
use crate::{CodecError, Encoded, ManagerError, TypeName};

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

    /// How long `request` may wait in the manager, if it is one that waits
    /// (see *Waiting* in the module docs): a client bounds it by its
    /// handle's timeout, and takes the request back if it gives up. `None`
    /// by default: no request waits.
    fn wait_mut(request: &mut Self::Request) -> Option<&mut Wait> {
        let _ = request;
        None
    }

    /// Whether the reply to `request` may hand something over (an item, a
    /// lease) that must be given back if it comes after its caller gave up
    /// or cannot be delivered ([`CustomType::undo_for`]). `false` by
    /// default.
    fn may_take(request: &Self::Request) -> bool {
        let _ = request;
        false
    }

    /// The request that gives back what `reply` to `request` handed over,
    /// if it handed something over; `None` by default. Sent by a client
    /// that gave up before the reply came, and carried out by the manager
    /// for a reply it could not deliver (a state that keeps the default
    /// `ObjectState::undelivered`).
    fn undo_for(request: &Self::Request, reply: &Self::Reply) -> Option<Self::Request> {
        let _ = (request, reply);
        None
    }
}

/// The request of the custom type `T`, decoded: what a state written
/// against `manager_actors::ObjectState` for a custom type takes as its
/// `Request`. Its [`KindRequest`] answers come from `T`
/// ([`CustomType::wait_mut`], [`CustomType::may_take`],
/// [`CustomType::undo_for`]); on the wire it is
/// [`ObjectRequest::Custom`] with the encoded `T::Request`, as every
/// custom request is.
///
/// A request whose value is not a `T::Request` is refused with
/// [`ManagerError::WrongType`], naming the type it holds and the type
/// asked for ([`KindRequest::take`]); one whose `Deserialize` panics, with
/// [`ManagerError::Panicked`].
///
/// # Examples
///
/// ```
/// use manager_core::custom::{CustomRequest, CustomType};
/// use manager_core::request::ObjectRequest;
///
/// struct Counter;
///
/// impl CustomType for Counter {
///     const TYPE_NAME: &'static str = "counter";
///     type Init = ();
///     type Request = u32;
///     type Reply = u64;
/// }
///
/// let op: ObjectRequest = CustomRequest::<Counter>::new(7).into();
/// let back = CustomRequest::<Counter>::try_from(op)?;
/// assert_eq!(*back, 7);
/// # Ok::<(), ObjectRequest>(())
/// ```
pub struct CustomRequest<T: CustomType> {
    request: T::Request,
    /// The value it came as, while it still says what `request` does (a
    /// change through [`CustomRequest::get_mut`] forgets it).
    encoded: Option<Encoded>,
    _type: PhantomData<fn() -> T>,
}

impl<T: CustomType> CustomRequest<T> {
    /// Wraps `request`.
    pub fn new(request: T::Request) -> Self {
        CustomRequest {
            request,
            encoded: None,
            _type: PhantomData,
        }
    }

    /// The request.
    pub fn get(&self) -> &T::Request {
        &self.request
    }

    /// The request, to change.
    pub fn get_mut(&mut self) -> &mut T::Request {
        self.encoded = None;
        &mut self.request
    }

    /// The request, unwrapped.
    pub fn into_inner(self) -> T::Request {
        self.request
    }

    /// The request as it travels: [`ObjectRequest::Custom`] holds this.
    ///
    /// # Errors
    ///
    /// [`CodecError::Encode`] if the request's `Serialize` fails.
    pub fn encode(&self) -> Result<Encoded, CodecError> {
        match &self.encoded {
            Some(encoded) => Ok(encoded.clone()),
            None => Encoded::encode(&self.request),
        }
    }

    /// Decodes `encoded`, a request to the object `what` names.
    fn decode(encoded: Encoded, what: &dyn fmt::Display) -> Result<Self, ManagerError> {
        // The type's own `Deserialize` may panic: that fails this request
        // only.
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            encoded.decode::<T::Request>(format_args!("a request to {what}"))
        }));
        match decoded {
            Ok(request) => Ok(CustomRequest {
                request: request?,
                encoded: Some(encoded),
                _type: PhantomData,
            }),
            Err(panic) => Err(ManagerError::Panicked {
                object: what.to_string(),
                message: panic_message(&*panic),
                earlier: false,
            }),
        }
    }
}

impl<T: CustomType> std::ops::Deref for CustomRequest<T> {
    type Target = T::Request;

    fn deref(&self) -> &T::Request {
        &self.request
    }
}

impl<T: CustomType> Clone for CustomRequest<T>
where
    T::Request: Clone,
{
    fn clone(&self) -> Self {
        CustomRequest {
            request: self.request.clone(),
            encoded: self.encoded.clone(),
            _type: PhantomData,
        }
    }
}

impl<T: CustomType> fmt::Debug for CustomRequest<T>
where
    T::Request: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CustomRequest")
            .field(&T::TYPE_NAME)
            .field(&self.request)
            .finish()
    }
}

/// Stands for a request whose `Serialize` failed where the conversion to
/// [`ObjectRequest`] cannot fail: it decodes as no type's request.
#[derive(Serialize)]
struct Unencodable;

impl<T: CustomType> From<CustomRequest<T>> for ObjectRequest {
    /// [`ObjectRequest::Custom`] with the encoded request. Should its
    /// `Serialize` fail, the value is a private marker that every object
    /// refuses with [`ManagerError::WrongType`]: use
    /// [`CustomRequest::encode`] to see the error.
    fn from(request: CustomRequest<T>) -> Self {
        let encoded = request.encode().unwrap_or_else(|_| {
            Encoded::encode(&Unencodable).expect("a unit struct always encodes")
        });
        ObjectRequest::Custom(encoded)
    }
}

impl<T: CustomType> TryFrom<ObjectRequest> for CustomRequest<T> {
    type Error = ObjectRequest;

    /// The decoded request, or the request itself back if it is not a
    /// custom request holding a `T::Request` ([`KindRequest::take`] says
    /// why).
    fn try_from(request: ObjectRequest) -> Result<Self, ObjectRequest> {
        match request {
            ObjectRequest::Custom(encoded) => {
                match catch_unwind(AssertUnwindSafe(|| {
                    encoded.decode::<T::Request>("a custom request")
                })) {
                    Ok(Ok(request)) => Ok(CustomRequest {
                        request,
                        encoded: Some(encoded),
                        _type: PhantomData,
                    }),
                    _ => Err(ObjectRequest::Custom(encoded)),
                }
            }
            other => Err(other),
        }
    }
}

impl<T> KindRequest for CustomRequest<T>
where
    T: CustomType + 'static,
    T::Request: Clone + fmt::Debug + Send + 'static,
{
    const FAMILY: &'static str = CUSTOM_FAMILY;

    /// The request's wait ([`CustomType::wait_mut`]); the request is
    /// encoded again when sent, as it may change.
    fn wait_mut(&mut self) -> Option<&mut Wait> {
        T::wait_mut(self.get_mut())
    }

    fn may_take(&self) -> bool {
        catch_unwind(AssertUnwindSafe(|| T::may_take(&self.request))).unwrap_or(false)
    }

    /// Decodes `reply` as a `T::Reply` and asks [`CustomType::undo_for`];
    /// `None` if it is not one (or its `Deserialize` panics).
    fn undo_for(&self, reply: &Reply) -> Option<Self> {
        let Reply::Value(value) = reply else {
            return None;
        };
        catch_unwind(AssertUnwindSafe(|| {
            let reply = value.decode::<T::Reply>("a custom reply").ok()?;
            T::undo_for(&self.request, &reply)
        }))
        .ok()
        .flatten()
        .map(CustomRequest::new)
    }

    fn take(request: ObjectRequest, what: &dyn fmt::Display) -> Result<Self, NotTaken> {
        match request {
            ObjectRequest::Custom(encoded) => {
                CustomRequest::decode(encoded, what).map_err(NotTaken::Refused)
            }
            other => Err(NotTaken::OtherFamily(Box::new(other))),
        }
    }
}

/// The [`KindRequest::FAMILY`] of every custom request.
pub const CUSTOM_FAMILY: &str = "custom";

/// The message a panic carried, for [`ManagerError::Panicked`].
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

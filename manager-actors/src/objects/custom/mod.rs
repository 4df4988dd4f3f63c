//! Custom object types: an application's own shared objects, Python's
//! `BaseManager.register(typeid, callable)`.
//!
//! An application describes its type on the wire with
//! [`CustomType`] (its name, and its `Init`, `Request` and `Reply` serde
//! types), which its clients link too, and gives the manager its behaviour
//! in one of two ways:
//!
//! - [`CustomObject`]: a state that answers each request at once with a
//!   `Reply`, and hears of closed connections and undelivered replies.
//!   Registered with [`CustomTypes::register`]. Enough for most types.
//! - [`CustomKind`]: a state written against [`ObjectState`], the trait
//!   every built-in kind implements, with the same powers: park a request
//!   in [`Waiters`](crate::waiters::Waiters) and answer it later (a
//!   blocking pop, "wait until the count reaches 10"), time a wait
//!   ([`ObjectState::timed_out`]), hear of a wait its caller gave up
//!   ([`ObjectState::cancel`]), give back what an undelivered reply handed
//!   over, apply bulk work in slices ([`ObjectContext::in_slices`]) and
//!   report to an inspection ([`ObjectState::report`]). Its `Request` is
//!   [`CustomRequest<T>`](manager_core::custom::CustomRequest), the
//!   decoded `T::Request`, and it answers through
//!   [`Caller::reply_custom`]. Registered with
//!   [`CustomTypes::register_kind`].
//!
//! The two are one mechanism: a [`CustomObject`] is run by
//! [`CustomState`], which is itself a [`CustomKind`], and
//! [`CustomTypes::register`] registers that. From then on the type's
//! objects are like the built-in ones: created or found by name through
//! the registry, each an [`ObjectActor`](crate::actor::ObjectActor) with
//! its own bounded mailbox and counters, listed and removed the same way.
//! The built-in kinds are made by the same actor and registry from the
//! same trait; only their requests are typed in `manager-core` instead of
//! decoded from a custom request.
//!
//! # Panics in application code
//!
//! A panic in [`CustomObject::create`] (or [`CustomKind::create`]) fails
//! that create; a panic in [`CustomObject::handle`] fails that request with
//! [`ManagerError::Panicked`] and *poisons* the object, as a panic poisons
//! a `std::sync::Mutex`: its state may be half-updated, so every later
//! request gets the same error. A panic in the type's own `Deserialize` of
//! its `Init` or `Request`, or `Serialize` of its `Reply`, fails that create
//! or request only, without poisoning: the state was not touched. The
//! manager and every other object go on.
//!
//! A [`CustomKind`] state is guarded by its actor the same way (see
//! *Panics* in [`crate::actor`]): a panic in any of its methods poisons the
//! object; the request that panicked gets [`ManagerError::Panicked`], the
//! requests it had parked are answered [`ManagerError::ObjectGone`], and
//! every later request gets [`ManagerError::Panicked`] again.
//!
//! # Waiting
//!
//! A [`CustomObject`] answers every request at once; it cannot park one (a
//! rate limiter answers "retry after" instead of blocking the caller). A
//! type whose requests wait is a [`CustomKind`]: its `Request` carries a
//! [`Wait`](manager_core::request::Wait) that
//! [`CustomType::wait_mut`] points to, so a client bounds the wait by its
//! handle's timeout and takes the request back
//! ([`ObjectState::cancel`]) when it gives up, as it does a built-in
//! queue's `get`. A connection that closes drops its parked requests
//! ([`ObjectState::connection_closed`], with
//! [`Waiters::drop_connection`](crate::waiters::Waiters::drop_connection)).

use std::any::TypeId;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use actix::Recipient;
use manager_core::custom::{CustomType, panic_message};
use manager_core::reply::Reply;
use manager_core::{Encoded, ManagerError, ObjectId, ObjectKind, ObjectName, TypeName};

use super::Placement;
#[cfg(doc)]
use crate::actor::ObjectContext;
use crate::actor::ObjectState;
use crate::object::{Caller, ObjectHandle, SharedStats, StopObject};

mod object;
#[cfg(test)]
mod tests;

pub use object::{CallInfo, CustomObject, CustomState};

/// A custom type whose behaviour in the manager is an [`ObjectState`], as
/// a built-in kind's is: what [`CustomTypes::register_kind`] registers.
///
/// The state's `Request` is usually
/// [`CustomRequest<Self::Type>`](manager_core::custom::CustomRequest); it
/// answers with [`Caller::reply_custom`]. [`CustomState`] (which runs a
/// [`CustomObject`]) takes the encoded request instead and decodes it
/// itself.
///
/// # Examples
///
/// A counter whose `WaitFor(n)` waits until the count reaches `n`:
///
/// ```
/// use manager_actors::actor::{ObjectContext, ObjectState};
/// use manager_actors::objects::{CustomKind, CustomTypes};
/// use manager_actors::waiters::{WaiterId, Waiters};
/// use manager_actors::{Caller, ConnectionId};
/// use manager_core::custom::{CustomRequest, CustomType};
/// use manager_core::request::{RequestId, Wait};
/// use serde::{Deserialize, Serialize};
///
/// /// The wire side, linked by the workers too.
/// struct Counter;
///
/// #[derive(Debug, Clone, Serialize, Deserialize)]
/// enum CounterRequest {
///     Add(u64),
///     /// Answers the count once it is at least `n`, or `None` if the
///     /// wait ends first.
///     WaitFor(u64, Wait),
/// }
///
/// impl CustomType for Counter {
///     const TYPE_NAME: &'static str = "counter";
///     type Init = ();
///     type Request = CounterRequest;
///     type Reply = Option<u64>;
///
///     fn wait_mut(request: &mut CounterRequest) -> Option<&mut Wait> {
///         match request {
///             CounterRequest::WaitFor(_, wait) => Some(wait),
///             CounterRequest::Add(_) => None,
///         }
///     }
/// }
///
/// /// The manager's side.
/// #[derive(Default)]
/// struct CounterState {
///     count: u64,
///     /// Parked `WaitFor`s, with the count each waits for.
///     waiters: Waiters<u64>,
/// }
///
/// impl ObjectState for CounterState {
///     type Request = CustomRequest<Counter>;
///
///     fn handle(&mut self, request: Self::Request, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
///         match request.into_inner() {
///             CounterRequest::Add(n) => {
///                 self.count += n;
///                 caller.reply_custom::<Counter>(Ok(Some(self.count)));
///                 // Every waiter whose count is reached goes on.
///                 for id in self.waiters.iter().filter(|w| w.data <= self.count).map(|w| w.id).collect::<Vec<_>>() {
///                     if let Some(waiter) = self.waiters.take(id, ctx) {
///                         waiter.caller.reply_custom::<Counter>(Ok(Some(self.count)));
///                     }
///                 }
///             }
///             CounterRequest::WaitFor(n, _) if self.count >= n => {
///                 caller.reply_custom::<Counter>(Ok(Some(self.count)));
///             }
///             CounterRequest::WaitFor(_, Wait::No) => caller.reply_custom::<Counter>(Ok(None)),
///             CounterRequest::WaitFor(n, wait) => {
///                 self.waiters.park(caller, n, wait, ctx);
///             }
///         }
///     }
///
///     fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
///         if let Some(waiter) = self.waiters.take(waiter, ctx) {
///             waiter.caller.reply_custom::<Counter>(Ok(None));
///         }
///     }
///
///     fn cancel(&mut self, connection: ConnectionId, request: RequestId, ctx: &mut ObjectContext<'_, Self>) -> bool {
///         self.waiters.cancel(connection, request, ctx)
///     }
///
///     fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
///         self.waiters.drop_connection(connection, ctx);
///     }
///
///     fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
///         for waiter in self.waiters.drain(ctx) {
///             waiter.caller.reply(Err(ctx.gone()));
///         }
///     }
/// }
///
/// impl CustomKind for CounterState {
///     type Type = Counter;
///
///     fn create((): ()) -> Result<Self, String> {
///         Ok(CounterState::default())
///     }
/// }
///
/// let types = CustomTypes::new().register_kind::<CounterState>();
/// assert_eq!(types.names(), ["counter"]);
/// ```
pub trait CustomKind: ObjectState {
    /// The type as clients see it: its name, and its `Init`, `Request` and
    /// `Reply`.
    type Type: CustomType;

    /// Makes a new object from its creation parameters; the `Err` message
    /// fails the create with [`ManagerError::CreateFailed`].
    ///
    /// # Errors
    ///
    /// Whatever the type finds wrong with `init`.
    fn create(init: <Self::Type as CustomType>::Init) -> Result<Self, String>;
}

impl Caller {
    /// Answers with `reply`, a reply of the custom type `T`, encoded as a
    /// custom object's replies are ([`Reply::Value`] holding the encoded
    /// `T::Reply`), or with the error.
    ///
    /// A reply whose `Serialize` fails or panics is answered with
    /// [`ManagerError::BadRequest`] or [`ManagerError::Panicked`] instead:
    /// the request fails, the object goes on.
    pub fn reply_custom<T: CustomType>(self, reply: Result<T::Reply, ManagerError>) {
        let reply = reply.and_then(|reply| encode_reply::<T>(&reply));
        self.reply(reply);
    }
}

/// `reply` of the custom type `T` as it travels.
fn encode_reply<T: CustomType>(reply: &T::Reply) -> Result<Reply, ManagerError> {
    let what = || format!("an object of type `{}`", T::TYPE_NAME);
    // The type's own `Serialize` may panic: that fails this request only.
    match catch_unwind(AssertUnwindSafe(|| Encoded::encode(reply))) {
        Ok(Ok(encoded)) => Ok(Reply::Value(encoded)),
        Ok(Err(e)) => Err(ManagerError::BadRequest(format!(
            "the reply of {} cannot be encoded: {e}",
            what()
        ))),
        Err(panic) => Err(ManagerError::Panicked {
            object: what(),
            message: panic_message(&*panic),
            earlier: false,
        }),
    }
}

/// Starts the actor of one custom object: decodes the creation parameters,
/// creates the state and spawns it.
type Factory = fn(
    Encoded,
    Placement<'_>,
    ObjectId,
    ObjectName,
    ObjectKind,
    SharedStats,
) -> Result<(ObjectHandle, Recipient<StopObject>), ManagerError>;

#[derive(Clone, Copy)]
struct Registered {
    type_id: TypeId,
    factory: Factory,
}

/// The custom object types a manager can create, by type name.
#[derive(Clone, Default)]
pub struct CustomTypes {
    types: BTreeMap<TypeName, Registered>,
}

impl std::fmt::Debug for CustomTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.types.keys()).finish()
    }
}

impl CustomTypes {
    /// No custom types.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `T` under its [`CustomType::TYPE_NAME`], run by
    /// [`CustomState<T>`]. Registering the same type again changes nothing.
    ///
    /// # Panics
    ///
    /// If `T::TYPE_NAME` is not a valid [`TypeName`], or another type is
    /// already registered under it: both are mistakes in the program, not
    /// in its input.
    pub fn register<T: CustomObject>(self) -> Self {
        self.register_kind::<CustomState<T>>()
    }

    /// Adds the state `S` under its type's [`CustomType::TYPE_NAME`].
    /// Registering the same state again changes nothing.
    ///
    /// # Panics
    ///
    /// As [`CustomTypes::register`]; and if `S`'s requests are not custom
    /// requests (its `Request` is a built-in kind's): no client could call
    /// it.
    pub fn register_kind<S: CustomKind>(mut self) -> Self {
        let type_name = <S::Type as CustomType>::TYPE_NAME;
        let name = match S::Type::type_name() {
            Ok(name) => name,
            Err(e) => panic!("custom object type `{type_name}`: {e}"),
        };
        assert!(
            <S::Request as manager_core::request::KindRequest>::FAMILY
                == manager_core::custom::CUSTOM_FAMILY,
            "custom object type `{type_name}` takes {} requests, not custom ones",
            <S::Request as manager_core::request::KindRequest>::FAMILY,
        );
        let entry = Registered {
            type_id: TypeId::of::<S>(),
            factory: spawn_kind::<S>,
        };
        if let Some(existing) = self.types.get(&name) {
            assert!(
                existing.type_id == entry.type_id,
                "two custom object types are registered as `{name}`"
            );
        }
        self.types.insert(name, entry);
        self
    }

    /// Adds every type of `other`.
    ///
    /// # Panics
    ///
    /// As [`CustomTypes::register`], if both hold different types under one
    /// name.
    pub fn extend(mut self, other: &CustomTypes) -> Self {
        for (name, entry) in &other.types {
            if let Some(existing) = self.types.get(name) {
                assert!(
                    existing.type_id == entry.type_id,
                    "two custom object types are registered as `{name}`"
                );
            }
            self.types.insert(name.clone(), *entry);
        }
        self
    }

    /// The registered type names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.types.keys().map(TypeName::as_str).collect()
    }

    /// Whether no type is registered.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// Starts the actor of a new object of type `type_name`.
    pub(crate) fn spawn(
        &self,
        type_name: TypeName,
        init: Encoded,
        place: Placement<'_>,
        id: ObjectId,
        name: ObjectName,
        stats: SharedStats,
    ) -> Result<(ObjectHandle, Recipient<StopObject>), ManagerError> {
        let Some(entry) = self.types.get(&type_name) else {
            return Err(ManagerError::UnknownType {
                type_name: type_name.to_string(),
                registered: self.names().into_iter().map(str::to_owned).collect(),
            });
        };
        (entry.factory)(init, place, id, name, ObjectKind::Custom(type_name), stats)
    }
}

fn spawn_kind<S: CustomKind>(
    init: Encoded,
    place: Placement<'_>,
    id: ObjectId,
    name: ObjectName,
    kind: ObjectKind,
    stats: SharedStats,
) -> Result<(ObjectHandle, Recipient<StopObject>), ManagerError> {
    let what = || format!("{kind} `{name}`");
    // The type's own `Deserialize` runs here, on the registry's actor: a
    // panic in it must fail this create only.
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        init.decode::<<S::Type as CustomType>::Init>(format_args!(
            "the creation parameters of {}",
            what()
        ))
    }));
    let init = match decoded {
        Ok(init) => init?,
        Err(panic) => {
            return Err(ManagerError::CreateFailed {
                object: what(),
                reason: format!(
                    "decoding its parameters panicked: {}",
                    panic_message(&*panic)
                ),
            });
        }
    };
    let state = match catch_unwind(AssertUnwindSafe(|| S::create(init))) {
        Ok(Ok(state)) => state,
        Ok(Err(reason)) => {
            return Err(ManagerError::CreateFailed {
                object: what(),
                reason,
            });
        }
        Err(panic) => {
            return Err(ManagerError::CreateFailed {
                object: what(),
                reason: format!("it panicked: {}", panic_message(&*panic)),
            });
        }
    };
    Ok(super::start(place, state, id, name, kind, stats))
}

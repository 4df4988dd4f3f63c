//! Custom object types: an application's own shared objects, Python's
//! `BaseManager.register(typeid, callable)`.
//!
//! The application implements [`CustomObject`] (its state and how it
//! answers each request) on top of the wire-side
//! [`CustomType`], and registers it in a
//! [`CustomTypes`] set that the manager is started with. From then on its
//! objects are like the built-in ones: created or found by name through the
//! registry, each an [`ObjectActor`](crate::actor::ObjectActor) with its own
//! bounded mailbox and counters, listed and removed the same way. The
//! built-in kinds are made by the same actor and registry; only their
//! requests are typed in `manager-core` instead of encoded.
//!
//! # Panics in application code
//!
//! A panic in [`CustomObject::create`] fails that create; a panic in
//! [`CustomObject::handle`] fails that request with
//! [`ManagerError::Panicked`] and *poisons* the object, as a panic poisons
//! a `std::sync::Mutex`: its state may be half-updated, so every later
//! request gets the same error. A panic in the type's own `Deserialize` of
//! its `Init` or `Request`, or `Serialize` of its `Reply`, fails that create
//! or request only, without poisoning: the state was not touched. The
//! manager and every other object go on.
//!
//! # Waiting
//!
//! A custom object answers every request at once; it cannot park one (a
//! rate limiter answers "retry after" instead of blocking the caller).

use std::any::TypeId;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use actix::Recipient;
use manager_core::custom::CustomType;
use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::{Encoded, ManagerError, ObjectId, ObjectKind, ObjectName, TypeName};

use super::Placement;
use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId, ObjectHandle, SharedStats, StopObject};
use crate::reply::GiveBackNeeds;

/// The behaviour of a custom object type, run by the manager.
///
/// An object is created on the registry's thread and then lives on one of
/// the manager's threads for good (see [`Threads`](crate::threads::Threads)),
/// so the type is `Send`; its requests run one at a time, never
/// concurrently, so it needs no lock of its own.
///
/// # Examples
///
/// ```
/// use manager_actors::objects::{CallInfo, CustomObject, CustomTypes};
/// use manager_core::custom::CustomType;
/// use serde::{Deserialize, Serialize};
///
/// /// At most `limit` tokens per client at a time.
/// #[derive(Default)]
/// struct Tokens { held: std::collections::HashMap<u64, u32>, limit: u32 }
///
/// #[derive(Serialize, Deserialize)]
/// enum TokensRequest { Take, Give }
///
/// impl CustomType for Tokens {
///     const TYPE_NAME: &'static str = "tokens";
///     type Init = u32;
///     type Request = TokensRequest;
///     type Reply = bool;
/// }
///
/// impl CustomObject for Tokens {
///     fn create(limit: u32) -> Result<Self, String> {
///         Ok(Tokens { limit, ..Tokens::default() })
///     }
///
///     fn handle(&mut self, request: TokensRequest, call: &CallInfo<'_>) -> bool {
///         let held = self.held.entry(call.connection().0).or_default();
///         match request {
///             TokensRequest::Take if *held < self.limit => { *held += 1; true }
///             TokensRequest::Give if *held > 0 => { *held -= 1; true }
///             _ => false,
///         }
///     }
///
///     fn connection_closed(&mut self, connection: manager_actors::ConnectionId) {
///         // A client that dies gives its tokens back.
///         self.held.remove(&connection.0);
///     }
/// }
///
/// let types = CustomTypes::new().register::<Tokens>();
/// assert_eq!(types.names(), ["tokens"]);
/// ```
pub trait CustomObject: CustomType + Send + Unpin + Sized + 'static {
    /// Makes a new object from its creation parameters; the `Err` message
    /// fails the create with [`ManagerError::CreateFailed`].
    ///
    /// # Errors
    ///
    /// Whatever the type finds wrong with `init`.
    fn create(init: Self::Init) -> Result<Self, String>;

    /// Carries out one request and answers it. Requests to one object run
    /// one at a time, each whole, so a read-modify-write here is atomic
    /// with respect to every client.
    fn handle(&mut self, request: Self::Request, call: &CallInfo<'_>) -> Self::Reply;

    /// A connection that used this object has closed; release what its
    /// client held. Does nothing by default.
    fn connection_closed(&mut self, connection: ConnectionId) {
        let _ = connection;
    }

    /// A `reply` this object gave to `connection` was not delivered: the
    /// connection closed before the manager could write it. A type whose
    /// replies hand something over (an item taken out, a lease granted)
    /// takes it back here, so nothing is lost with a client that died
    /// while its request was being answered. Does nothing by default.
    ///
    /// A reply that was delivered but whose client died before reading
    /// it does not come here: [`CustomObject::connection_closed`] is the
    /// place for what a dead client held.
    ///
    /// Both hooks may be called for one connection, in either order
    /// (usually this one first). Give back here only what the state still
    /// records as that connection's, and forget it, so that
    /// `connection_closed` does not give it back a second time (and the
    /// other way round): for example, a token the state lists as held by
    /// `connection`.
    fn reply_undelivered(&mut self, reply: Self::Reply, connection: ConnectionId) {
        let _ = (reply, connection);
    }

    /// How many entries the object holds, if it is a collection of some
    /// sort: shown by inspection (`manager-inspect`) as its size. `None`
    /// (the default) shows no size.
    fn size(&self) -> Option<u64> {
        None
    }
}

/// Who is calling a custom object, for [`CustomObject::handle`].
#[derive(Debug)]
pub struct CallInfo<'a> {
    connection: ConnectionId,
    object: &'a ObjectName,
}

impl CallInfo<'_> {
    /// The connection the request came on: one per client process (or per
    /// `Client` it opened).
    pub fn connection(&self) -> ConnectionId {
        self.connection
    }

    /// The name of the object called.
    pub fn object(&self) -> &ObjectName {
        self.object
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

    /// Adds `T` under its [`CustomType::TYPE_NAME`]. Registering the same
    /// type again changes nothing.
    ///
    /// # Panics
    ///
    /// If `T::TYPE_NAME` is not a valid [`TypeName`], or another type is
    /// already registered under it: both are mistakes in the program, not
    /// in its input.
    pub fn register<T: CustomObject>(mut self) -> Self {
        let name = match T::type_name() {
            Ok(name) => name,
            Err(e) => panic!("custom object type `{}`: {e}", T::TYPE_NAME),
        };
        let entry = Registered {
            type_id: TypeId::of::<T>(),
            factory: spawn_custom::<T>,
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

fn spawn_custom<T: CustomObject>(
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
        init.decode::<T::Init>(format_args!("the creation parameters of {}", what()))
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
    let state = match catch_unwind(AssertUnwindSafe(|| T::create(init))) {
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
    Ok(super::start(
        place,
        CustomState {
            state: Some(state),
            poisoned: None,
        },
        id,
        name,
        kind,
        stats,
    ))
}

/// The [`ObjectState`] of a custom object: decodes each request, lets the
/// application's state answer it and encodes the answer.
#[derive(Debug)]
pub struct CustomState<T> {
    /// `None` once a request panicked.
    state: Option<T>,
    /// The message of the panic that poisoned the object.
    poisoned: Option<String>,
}

impl<T: CustomObject> CustomState<T> {
    fn call(
        &mut self,
        request: &Encoded,
        connection: ConnectionId,
        ctx: &ObjectContext<'_, Self>,
    ) -> Result<Reply, ManagerError> {
        let Some(state) = self.state.as_mut() else {
            return Err(ManagerError::Panicked {
                object: ctx.what(),
                message: self.poisoned.clone().unwrap_or_default(),
                earlier: true,
            });
        };
        // The type's own `Deserialize` and `Serialize` run outside `handle`
        // and leave the state as it is: a panic in them fails the request
        // without poisoning the object.
        let panicked = |panic: Box<dyn std::any::Any + Send>| ManagerError::Panicked {
            object: ctx.what(),
            message: panic_message(&*panic),
            earlier: false,
        };
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            request
                .decode::<T::Request>(format_args!("a request to {}", super::Lazy(|| ctx.what())))
        }));
        let request = decoded.map_err(panicked)??;
        let info = CallInfo {
            connection,
            object: ctx.name(),
        };
        match catch_unwind(AssertUnwindSafe(|| state.handle(request, &info))) {
            Ok(reply) => catch_unwind(AssertUnwindSafe(|| Encoded::encode(&reply)))
                .map_err(panicked)?
                .map(Reply::Value)
                .map_err(|e| {
                    ManagerError::BadRequest(format!(
                        "the reply of {} cannot be encoded: {e}",
                        ctx.what()
                    ))
                }),
            Err(panic) => {
                let message = panic_message(&*panic);
                tracing::error!(object = %ctx.what(), %message, "custom object panicked; it is poisoned");
                self.state = None;
                self.poisoned = Some(message.clone());
                Err(ManagerError::Panicked {
                    object: ctx.what(),
                    message,
                    earlier: false,
                })
            }
        }
    }
}

impl<T: CustomObject> ObjectState for CustomState<T> {
    /// The encoded [`CustomType::Request`].
    type Request = Encoded;

    fn handle(&mut self, request: Encoded, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        let result = self.call(&request, caller.connection, ctx);
        caller.reply(result);
    }

    fn gives_back(&self, _request: &Encoded) -> GiveBackNeeds {
        // Only the type knows whether its reply hands something over; the
        // reply is all `reply_undelivered` gets.
        GiveBackNeeds::Reply
    }

    fn undelivered(
        &mut self,
        connection: ConnectionId,
        _request: Option<Encoded>,
        reply: Reply,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        let (Some(state), Reply::Value(encoded)) = (self.state.as_mut(), reply) else {
            return;
        };
        // A panic in the type's own `Deserialize` leaves the state as it
        // is; one in `reply_undelivered` poisons the object.
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            encoded.decode::<T::Reply>("an undelivered reply")
        }));
        let reply = match decoded {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                tracing::error!(object = %ctx.what(), error = %e, "cannot decode an undelivered reply");
                return;
            }
            Err(_) => {
                tracing::error!(object = %ctx.what(), "decoding an undelivered reply panicked");
                return;
            }
        };
        if catch_unwind(AssertUnwindSafe(|| {
            state.reply_undelivered(reply, connection)
        }))
        .is_err()
        {
            tracing::error!(object = %ctx.what(), "custom object panicked in reply_undelivered; it is poisoned");
            self.state = None;
            self.poisoned = Some("it panicked taking back an undelivered reply".to_owned());
        }
    }

    fn report(&self) -> ObjectDetail {
        let len = self.state.as_ref().and_then(|state| {
            catch_unwind(AssertUnwindSafe(|| state.size()))
                .ok()
                .flatten()
        });
        ObjectDetail {
            size: len.map_or(KindDetail::Opaque, |len| KindDetail::Items { len }),
            ..ObjectDetail::default()
        }
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(state) = self.state.as_mut()
            && catch_unwind(AssertUnwindSafe(|| state.connection_closed(connection))).is_err()
        {
            tracing::error!(object = %ctx.what(), "custom object panicked in connection_closed; it is poisoned");
            self.state = None;
            self.poisoned = Some("it panicked while a connection closed".to_owned());
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use manager_core::request::ObjectRequest;
    use manager_core::{Encoded, ManagerError, ObjectSpec, TypeName};
    use serde::{Deserialize, Deserializer, Serialize};

    use super::{CallInfo, CustomObject, CustomType, CustomTypes};
    use crate::objects::testing::{Conn, Harness};

    /// A number whose `Deserialize` panics on 13, as an application's
    /// hand-written impl might on input it did not expect.
    #[derive(Debug, Serialize)]
    struct Touchy(u8);

    impl<'de> Deserialize<'de> for Touchy {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let n = u8::deserialize(deserializer)?;
            assert!(n != 13, "unlucky number");
            Ok(Touchy(n))
        }
    }

    /// Answers the number it is sent plus the one it was made with.
    struct Adder(u8);

    impl CustomType for Adder {
        const TYPE_NAME: &'static str = "tests.adder";
        type Init = Touchy;
        type Request = Touchy;
        type Reply = u8;
    }

    impl CustomObject for Adder {
        fn create(init: Touchy) -> Result<Self, String> {
            Ok(Adder(init.0))
        }

        fn handle(&mut self, request: Touchy, _call: &CallInfo<'_>) -> u8 {
            self.0.wrapping_add(request.0)
        }
    }

    fn spec(init: u8) -> ObjectSpec {
        ObjectSpec::Custom {
            type_name: TypeName::new(Adder::TYPE_NAME).unwrap(),
            init: Encoded::encode(&Touchy(init)).unwrap(),
        }
    }

    fn request(n: u8) -> ObjectRequest {
        ObjectRequest::Custom(Encoded::encode(&Touchy(n)).unwrap())
    }

    #[actix::test]
    async fn a_panic_decoding_the_types_values_fails_that_request_only() {
        let harness = Harness::with_custom_types(CustomTypes::new().register::<Adder>());
        match harness.try_object("unlucky", spec(13)).await {
            Err(ManagerError::CreateFailed { reason, .. }) => {
                assert!(reason.contains("unlucky number"), "{reason}");
            }
            other => panic!("expected CreateFailed, got {other:?}"),
        }
        // The registry goes on.
        let adder = harness.object("adder", spec(1)).await;

        let mut conn = Conn::new(1);
        match conn.call(&adder, request(13)).await {
            Err(ManagerError::Panicked {
                message,
                earlier: false,
                ..
            }) => assert_eq!(message, "unlucky number"),
            other => panic!("expected Panicked, got {other:?}"),
        }
        // The state was never touched: the object is not poisoned.
        let reply = conn.call(&adder, request(2)).await.unwrap();
        let manager_core::reply::Reply::Value(sum) = reply else {
            panic!("expected a value, got {reply:?}");
        };
        assert_eq!(sum.decode::<u8>("the sum").unwrap(), 3);
    }
}

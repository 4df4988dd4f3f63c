//! [`CustomObject`]: the simple way to give a custom type its behaviour,
//! a state that answers each request at once; and [`CustomState`], the
//! [`CustomKind`] that runs one, with its panic handling (see *Panics in
//! application code* in [`super`]).

use std::panic::{AssertUnwindSafe, catch_unwind};

use manager_core::custom::{CustomType, panic_message};
use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::{Encoded, ManagerError, ObjectName};

use super::CustomKind;
#[cfg(doc)]
use super::CustomTypes;
use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
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

/// The [`ObjectState`] of a [`CustomObject`]: decodes each request, lets
/// the application's state answer it and encodes the answer. A
/// [`CustomKind`] like any other, which [`CustomTypes::register`]
/// registers.
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
            request.decode::<T::Request>(format_args!(
                "a request to {}",
                crate::objects::Lazy(|| ctx.what())
            ))
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

impl<T: CustomObject> CustomKind for CustomState<T> {
    type Type = T;

    fn create(init: T::Init) -> Result<Self, String> {
        Ok(CustomState {
            state: Some(T::create(init)?),
            poisoned: None,
        })
    }
}

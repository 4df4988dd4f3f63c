//! [`Call`]: a request to an object together with the type of its reply,
//! so that whoever sends it cannot expect another.
//!
//! Each kind's request file builds its calls with one `calls!` table, one
//! line per operation: its builder's name and arguments, the reply type
//! ([`ReplyShape`]) and the request it makes. That table is the one place
//! a reply's type is chosen; a proxy takes the reply as the call's type,
//! as ractor's `RpcReplyPort<T>` fixes a reply's type in the message.
//!
//! ```
//! use manager_core::request::{Call, EventRequest, ObjectRequest};
//!
//! let is_set: Call<bool> = EventRequest::is_set();
//! assert_eq!(is_set.into_request(), ObjectRequest::Event(EventRequest::IsSet));
//! ```

use std::fmt;
use std::marker::PhantomData;

use super::ObjectRequest;
use crate::Encoded;
#[cfg(doc)]
use crate::reply::Reply;
use crate::reply::ReplyShape;

/// A request whose reply converts to `R` ([`ReplyShape`]): a request to
/// an object (`Q` = [`ObjectRequest`]) or to the registry
/// (`Q` = [`RegistryRequest`](super::RegistryRequest)).
///
/// Made only by the kinds' builders (`EventRequest::is_set()`,
/// `QueueRequest::put(..)`, ...), the registry's
/// (`RegistryRequest::lookup(..)`) and [`Call::custom`]; the reply of a
/// manager that keeps the protocol always has `R`'s shape.
pub struct Call<R, Q = ObjectRequest> {
    request: Q,
    reply: PhantomData<fn() -> R>,
}

impl<R: ReplyShape, Q> Call<R, Q> {
    /// Pairs `request` with its reply type: for the builders only.
    pub(crate) fn new(request: impl Into<Q>) -> Self {
        Call {
            request: request.into(),
            reply: PhantomData,
        }
    }

    /// The request.
    pub fn request(&self) -> &Q {
        &self.request
    }

    /// The request, to send; its reply is to be read as an `R`.
    pub fn into_request(self) -> Q {
        self.request
    }
}

impl Call<Encoded> {
    /// A request to an object of a custom type: its encoded
    /// [`CustomType::Request`](crate::custom::CustomType::Request), answered
    /// with [`Reply::Value`] holding the encoded
    /// [`CustomType::Reply`](crate::custom::CustomType::Reply).
    pub fn custom(request: Encoded) -> Self {
        Call::new(ObjectRequest::Custom(request))
    }
}

impl<R, Q: Clone> Clone for Call<R, Q> {
    fn clone(&self) -> Self {
        Call {
            request: self.request.clone(),
            reply: PhantomData,
        }
    }
}

impl<R, Q: fmt::Debug> fmt::Debug for Call<R, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("request", &self.request)
            .field("reply", &std::any::type_name::<R>())
            .finish()
    }
}

/// Builds a kind's calls: for each line `name(args) -> Reply = Variant`,
/// an associated function `name(args) -> Call<Reply>` on the kind's
/// request enum, making `Variant` (with the arguments as its fields).
macro_rules! calls {
    ($Request:ident {
        $($name:ident($($arg:ident: $Arg:ty),*) -> $Reply:ty = $Variant:ident $({ $($field:ident),* })?;)*
    }) => {
        impl $Request {
            $(
                #[doc = concat!(
                    "A call of [`", stringify!($Request), "::", stringify!($Variant),
                    "`], whose reply is a `", stringify!($Reply), "`."
                )]
                pub fn $name($($arg: $Arg),*) -> $crate::request::Call<$Reply> {
                    $crate::request::Call::new($Request::$Variant $({ $($field),* })?)
                }
            )*
        }
    };
}

pub(super) use calls;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{QueueRequest, Wait};

    #[test]
    fn a_call_carries_its_request() {
        let put = QueueRequest::put(Encoded::encode(&1_u8).unwrap(), Wait::No);
        assert!(format!("{put:?}").contains("()"));
        assert!(matches!(
            put.into_request(),
            ObjectRequest::Queue(QueueRequest::Put { wait: Wait::No, .. })
        ));
    }
}

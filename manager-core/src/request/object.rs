//! [`ObjectRequest`]: an operation on one object, and [`KindRequest`], what
//! each kind's request enum says about itself.
//!
//! Each kind has its own request enum in a file of this folder named for the
//! kind, and implements [`KindRequest`] there: whether a request waits, what
//! it may take and how to give that back, whether its reply is long. The
//! list of kinds is [`for_each_kind!`](crate::for_each_kind); the macro
//! defined here makes from it the folder's modules, [`ObjectRequest`], its
//! conversions and its dispatching methods.

use std::fmt::{self, Debug};

#[cfg(doc)]
use super::QueueRequest;
use super::{ObjectRequest, Wait};
use crate::reply::Reply;
use crate::{Encoded, ManagerError};

/// Why [`KindRequest::take`] did not take a request.
#[derive(Debug)]
pub enum NotTaken {
    /// The request is another family's, given back unchanged (boxed: it
    /// is the rare case): the object answers it [`ManagerError::WrongKind`].
    OtherFamily(Box<ObjectRequest>),
    /// The request is this family's but cannot be taken (a custom request
    /// that is not the type's request): the object answers it this error.
    Refused(ManagerError),
}

/// The request enum of one kind of object (several kinds may share one:
/// `Queue` and `JoinableQueue` take [`QueueRequest`]): what the bridge and
/// the client need to know about a request without knowing its kind.
///
/// Every method has a default for a request that never waits and never
/// hands anything over.
pub trait KindRequest:
    Into<ObjectRequest> + TryFrom<ObjectRequest, Error = ObjectRequest> + Clone + Debug + Send + 'static
{
    /// A short name of the request family, for error messages ("queue").
    const FAMILY: &'static str;

    /// How long this request may wait on the manager's side, if it is one
    /// that waits; for a client to bound it by its own deadline.
    fn wait_mut(&mut self) -> Option<&mut Wait> {
        None
    }

    /// Whether this request may take something (a lock, a semaphore unit, a
    /// queue item) that must be given back if its reply comes after its
    /// caller gave up; see [`KindRequest::undo_for`].
    fn may_take(&self) -> bool {
        false
    }

    /// What gives back what this request took, judging by `reply`, when
    /// that reply came after the caller gave up (a timeout, a dropped
    /// future) or could not be delivered. `None` if the reply took nothing.
    fn undo_for(&self, reply: &Reply) -> Option<Self> {
        let _ = reply;
        None
    }

    /// Whether its reply is a list that grows with the object (keys, a
    /// snapshot, a slice): such a reply may be long, so the bridge lets each
    /// connection have one of them under way at a time and sends it in
    /// parts (see [`reply::parts`](crate::reply::parts)).
    fn replies_in_bulk(&self) -> bool {
        false
    }

    /// This family's request out of `request`, sent to the object `what`
    /// names (for error messages): how an object takes the requests of its
    /// batches. By default [`TryFrom`], which fails only for another
    /// family's request.
    ///
    /// # Errors
    ///
    /// [`NotTaken::OtherFamily`] with the request itself if it is another
    /// family's; [`NotTaken::Refused`] with the error to answer if it is
    /// this family's but cannot be taken (a custom request whose value is
    /// not the type's request:
    /// [`CustomRequest`](crate::custom::CustomRequest)).
    fn take(request: ObjectRequest, what: &dyn fmt::Display) -> Result<Self, NotTaken> {
        let _ = what;
        Self::try_from(request).map_err(|other| NotTaken::OtherFamily(Box::new(other)))
    }
}

/// An object of a custom type takes its encoded
/// [`CustomType::Request`](crate::custom::CustomType::Request); only the
/// type knows more about it.
impl KindRequest for Encoded {
    const FAMILY: &'static str = crate::custom::CUSTOM_FAMILY;
}

/// Makes [`ObjectRequest`] from the list of kinds' request enums: the enum
/// (with `Cancel` last), `From`/`TryFrom` between it and each kind's enum,
/// and the methods that ask the kind's [`KindRequest`] impl; and the
/// modules of the families' request enums. Called once, in
/// `request/mod.rs`, with the list of kinds.
macro_rules! object_requests {
    ($($(#[$doc:meta])* $file:ident: $Variant:ident($Request:ident) {$($kinds:tt)*},)+) => {
        $(
            mod $file;
            pub use $file::$Request;
        )+

        object_requests! {
            @enum
            $($(#[$doc])* $Variant($Request),)+
            /// For an object of a custom type: its encoded
            /// [`CustomType::Request`](crate::custom::CustomType::Request), answered
            /// with `Value` holding the encoded
            /// [`CustomType::Reply`](crate::custom::CustomType::Reply).
            Custom($crate::Encoded),
        }
    };
    (@enum $($(#[$doc:meta])* $Variant:ident($Request:ty),)*) => {
        /// An operation on one object, by object kind. Kinds that share
        /// operations share a request enum: `Queue` and `JoinableQueue` take
        /// [`QueueRequest`], `Lock` and `RLock` take [`LockRequest`],
        /// `Semaphore` and `BoundedSemaphore` take [`SemaphoreRequest`].
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum ObjectRequest {
            $($(#[$doc])* $Variant($Request),)*
            /// Take back request `request` of this connection if it is still
            /// parked in the object (its caller stopped waiting for it: a
            /// dropped future, a timeout): it is answered
            /// [`ManagerError::Cancelled`] and changes nothing. For any
            /// kind; replies `Bool`, whether a parked request was taken back.
            /// A request already answered, or one whose wait counts toward a
            /// result (a barrier's party), is left as it is; but for a
            /// condition's `Wait` that took the lock back already, whose
            /// grant is given back at once (see
            /// [`ConditionRequest::Wait`](crate::request::ConditionRequest::Wait)).
            ///
            /// [`ManagerError::Cancelled`]: crate::ManagerError::Cancelled
            Cancel {
                /// The id of the request to take back.
                request: $crate::request::RequestId,
            },
        }

        $(
            impl From<$Request> for ObjectRequest {
                fn from(request: $Request) -> Self {
                    ObjectRequest::$Variant(request)
                }
            }

            impl TryFrom<ObjectRequest> for $Request {
                type Error = ObjectRequest;

                /// The kind's request, or the request itself back if it is
                /// another kind's.
                fn try_from(request: ObjectRequest) -> Result<Self, ObjectRequest> {
                    match request {
                        ObjectRequest::$Variant(request) => Ok(request),
                        other => Err(other),
                    }
                }
            }
        )*

        impl ObjectRequest {
            /// How long this request may wait on the manager's side, if it
            /// is one that waits ([`KindRequest::wait_mut`]).
            pub fn wait_mut(&mut self) -> Option<&mut $crate::request::Wait> {
                match self {
                    $(ObjectRequest::$Variant(request) => $crate::request::KindRequest::wait_mut(request),)*
                    ObjectRequest::Cancel { .. } => None,
                }
            }

            /// Whether this request may take something that must be given
            /// back if its reply comes after its caller gave up
            /// ([`KindRequest::may_take`]).
            pub fn may_take(&self) -> bool {
                match self {
                    $(ObjectRequest::$Variant(request) => $crate::request::KindRequest::may_take(request),)*
                    ObjectRequest::Cancel { .. } => false,
                }
            }

            /// What gives back what this request took, judging by `reply`
            /// ([`KindRequest::undo_for`]): the release of a granted lock
            /// or semaphore unit, the give-back of the holds of a
            /// condition's lock that a `Wait` took back, the return of a queue item to the
            /// front (for a received item, its requeue). `None` if the reply
            /// took nothing.
            pub fn undo_for(&self, reply: &$crate::reply::Reply) -> Option<ObjectRequest> {
                match self {
                    $(ObjectRequest::$Variant(request) => {
                        $crate::request::KindRequest::undo_for(request, reply).map(ObjectRequest::$Variant)
                    })*
                    ObjectRequest::Cancel { .. } => None,
                }
            }

            /// Whether its reply is a list that grows with the object
            /// ([`KindRequest::replies_in_bulk`]).
            pub fn replies_in_bulk(&self) -> bool {
                match self {
                    $(ObjectRequest::$Variant(request) => {
                        $crate::request::KindRequest::replies_in_bulk(request)
                    })*
                    ObjectRequest::Cancel { .. } => false,
                }
            }

            /// A short name of the request family, for error messages
            /// ([`KindRequest::FAMILY`]).
            pub fn family(&self) -> &'static str {
                match self {
                    $(ObjectRequest::$Variant(_) => <$Request as $crate::request::KindRequest>::FAMILY,)*
                    ObjectRequest::Cancel { .. } => "cancel",
                }
            }
        }
    };
}

pub(super) use object_requests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{
        ArrayRequest, BarrierRequest, ConditionRequest, DictRequest, EventRequest, ListRequest,
        LockRequest, NamespaceRequest, Owner, QueueRequest, RequestId, SemaphoreRequest,
        SetRequest, SharedMemoryRequest, ValueRequest,
    };

    #[test]
    fn a_kind_request_converts_both_ways() {
        let acquire = LockRequest::Acquire {
            owner: Owner(1),
            wait: Wait::Forever,
        };
        let op: ObjectRequest = acquire.clone().into();
        assert_eq!(op.family(), "lock");
        assert_eq!(LockRequest::try_from(op.clone()), Ok(acquire));
        // Another kind's request comes back unchanged.
        assert_eq!(QueueRequest::try_from(op.clone()), Err(op));
    }

    /// Variants are encoded by their position: the list of kinds must keep the order clients and managers of
    /// earlier builds use, with `Cancel` last.
    #[test]
    fn variants_keep_their_wire_positions() {
        let owner = Owner(1);
        let each = [
            ObjectRequest::Namespace(NamespaceRequest::Names),
            ObjectRequest::List(ListRequest::Snapshot),
            ObjectRequest::Dict(DictRequest::Keys),
            ObjectRequest::Set(SetRequest::Snapshot),
            ObjectRequest::Value(ValueRequest::Get),
            ObjectRequest::Array(ArrayRequest::Snapshot),
            ObjectRequest::Queue(QueueRequest::Len),
            ObjectRequest::Lock(LockRequest::IsLocked),
            ObjectRequest::Semaphore(SemaphoreRequest::Value),
            ObjectRequest::Event(EventRequest::IsSet),
            ObjectRequest::Condition(ConditionRequest::NotifyAll { owner }),
            ObjectRequest::Barrier(BarrierRequest::Broken),
            ObjectRequest::SharedMemory(SharedMemoryRequest::Size),
            ObjectRequest::Custom(Encoded::encode(&0_u8).unwrap()),
            ObjectRequest::Cancel {
                request: RequestId(1),
            },
        ];
        for (position, request) in each.iter().enumerate() {
            let bytes = crate::codec::encode(request).unwrap();
            assert_eq!(
                usize::from(bytes[0]),
                position,
                "{} moved",
                request.family()
            );
            let back: ObjectRequest = crate::codec::decode(&bytes).unwrap();
            assert_eq!(&back, request);
        }
    }

    #[test]
    fn cancel_neither_waits_nor_takes() {
        let mut cancel = ObjectRequest::Cancel {
            request: RequestId(7),
        };
        assert!(cancel.wait_mut().is_none());
        assert!(!cancel.may_take());
        assert!(cancel.undo_for(&Reply::Bool(true)).is_none());
        assert_eq!(cancel.family(), "cancel");
    }
}

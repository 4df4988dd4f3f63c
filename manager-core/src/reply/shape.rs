//! [`ReplyShape`]: each shape of [`Reply`] as a Rust type, so that a caller
//! names the shape it expects once, in a type, and gets that type or an
//! error: no caller matches on [`Reply`] itself.
//!
//! ```
//! use manager_core::reply::{Reply, ReplyShape};
//!
//! assert_eq!(u64::from_reply(Reply::Count(3)), Ok(3));
//! // Another shape is handed back, for the error to show it.
//! assert_eq!(bool::from_reply(Reply::Count(3)), Err(Box::new(Reply::Count(3))));
//! ```

use super::{AttachedFd, ObjectInfo, ObjectSummary, RegistryReply, Reply};
use crate::Encoded;
use crate::inspect::ManagerSnapshot;
use crate::request::RequestId;

/// A type that one shape of [`Reply`] converts into.
pub trait ReplyShape: Sized {
    /// The reply as this type if it has this shape; otherwise the reply,
    /// unchanged (boxed: a rare path, and a reply is large).
    ///
    /// # Errors
    ///
    /// The reply itself, when it has another shape.
    fn from_reply(reply: Reply) -> Result<Self, Box<Reply>>;
}

/// The outcome of a compare-and-swap ([`Reply::Swapped`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swapped {
    /// Whether the new value was stored.
    pub swapped: bool,
    /// When not swapped, what is there instead (`None`: absent).
    pub current: Option<Encoded>,
}

/// An item handed out to be acknowledged ([`Reply::Delivery`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Its receipt, unique in its queue.
    pub receipt: u64,
    /// The item.
    pub value: Encoded,
}

/// A list's values with its version ([`Reply::Versioned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The list's version when it was read.
    pub version: u64,
    /// Its values.
    pub values: Vec<Encoded>,
}

/// A condition's `wait` with the lock back ([`Reply::Woken`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Woken {
    /// Whether a notify woke it (`false`: its wait ended first).
    pub notified: bool,
    /// How many times over it holds the lock again.
    pub holds: u64,
    /// The id of the `Wait` this answers.
    pub wait: RequestId,
}

/// A shared memory block handed over to map ([`Reply::Mapping`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The block's size in bytes.
    pub size: u64,
    /// Its descriptor, if it arrived beside the frame.
    pub fd: AttachedFd,
}

/// Whether a registry removal found the object ([`RegistryReply::Removed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed(pub bool);

/// Implements [`ReplyShape`] for a type that one variant carries.
macro_rules! shapes {
    ($($Type:ty: $pattern:pat => $value:expr;)*) => {$(
        impl ReplyShape for $Type {
            fn from_reply(reply: Reply) -> Result<Self, Box<Reply>> {
                match reply {
                    $pattern => Ok($value),
                    other => Err(Box::new(other)),
                }
            }
        }
    )*};
}

shapes! {
    (): Reply::Done => ();
    bool: Reply::Bool(b) => b;
    u64: Reply::Count(n) => n;
    i64: Reply::Integer(n) => n;
    Encoded: Reply::Value(value) => value;
    Option<Encoded>: Reply::MaybeValue(value) => value;
    Vec<Encoded>: Reply::Values(values) => values;
    Vec<Option<Encoded>>: Reply::MaybeValues(values) => values;
    (Encoded, Encoded): Reply::Pair(key, value) => (key, value);
    Vec<(Encoded, Encoded)>: Reply::Pairs(pairs) => pairs;
    Vec<String>: Reply::Names(names) => names;
    Vec<(String, Encoded)>: Reply::Attributes(attributes) => attributes;
    Swapped: Reply::Swapped { swapped, current } => Swapped { swapped, current };
    Delivered: Reply::Delivery { receipt, value } => Delivered { receipt, value };
    Versioned: Reply::Versioned { version, values } => Versioned { version, values };
    Woken: Reply::Woken { notified, holds, wait } => Woken { notified, holds, wait };
    Mapped: Reply::Mapping { size, fd } => Mapped { size, fd };
    ObjectInfo: Reply::Registry(RegistryReply::Object(info)) => info;
    Removed: Reply::Registry(RegistryReply::Removed(removed)) => Removed(removed);
    Vec<ObjectSummary>: Reply::Registry(RegistryReply::Objects(objects)) => objects;
    ManagerSnapshot: Reply::Registry(RegistryReply::Snapshot(snapshot)) => *snapshot;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_takes_its_variant_and_hands_back_the_others() {
        let value = Encoded::encode(&7_u32).expect("encodes");
        assert_eq!(<()>::from_reply(Reply::Done), Ok(()));
        assert_eq!(i64::from_reply(Reply::Integer(-2)), Ok(-2));
        assert_eq!(
            Encoded::from_reply(Reply::Value(value.clone())),
            Ok(value.clone())
        );
        assert_eq!(
            Swapped::from_reply(Reply::Swapped {
                swapped: false,
                current: Some(value.clone()),
            }),
            Ok(Swapped {
                swapped: false,
                current: Some(value.clone()),
            })
        );
        // A count is not a yes, nor an integer, nor a removal.
        assert_eq!(
            bool::from_reply(Reply::Count(1)),
            Err(Box::new(Reply::Count(1)))
        );
        assert_eq!(
            i64::from_reply(Reply::Count(1)),
            Err(Box::new(Reply::Count(1)))
        );
        assert_eq!(
            Woken::from_reply(Reply::Woken {
                notified: true,
                holds: 2,
                wait: RequestId(5),
            }),
            Ok(Woken {
                notified: true,
                holds: 2,
                wait: RequestId(5),
            })
        );
        // A wait's reply is not a yes.
        assert_eq!(
            bool::from_reply(Reply::Woken {
                notified: true,
                holds: 1,
                wait: RequestId(5),
            }),
            Err(Box::new(Reply::Woken {
                notified: true,
                holds: 1,
                wait: RequestId(5),
            }))
        );
        assert_eq!(
            Removed::from_reply(Reply::Bool(true)),
            Err(Box::new(Reply::Bool(true)))
        );
        assert_eq!(
            Option::<Encoded>::from_reply(Reply::Value(value.clone())),
            Err(Box::new(Reply::Value(value)))
        );
    }
}

//! [`ManagerError`]: why the manager refused or failed one request.
//!
//! It is encoded into the reply of the request that failed, so it must say
//! what failed and why without the client's context. It fails that request
//! only: the connection and every other request go on.

use serde::{Deserialize, Serialize};

use crate::value::short_type_name;
use crate::{ObjectId, ObjectKind};

/// The manager's answer when one request cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// No object has this name.
    #[error("no object named `{name}`")]
    NoSuchObject {
        /// The name asked for.
        name: String,
    },
    /// The name exists with another kind.
    #[error("object `{name}` is a {existing}, not a {requested}")]
    KindMismatch {
        /// The name asked for.
        name: String,
        /// The kind the registry holds under that name.
        existing: ObjectKind,
        /// The kind the request asked for.
        requested: ObjectKind,
    },
    /// The object was removed (or never existed) and its id is stale.
    #[error("object {id} no longer exists")]
    ObjectGone {
        /// The stale id.
        id: ObjectId,
    },
    /// A request for one kind of object reached an object of another kind.
    #[error("{object} is a {actual}; it cannot take a {requested} request")]
    WrongKind {
        /// The target, by name.
        object: String,
        /// What the target is.
        actual: ObjectKind,
        /// The request's family, for example "queue".
        requested: String,
    },
    /// The object's kind does not have this operation (for example
    /// `task_done` on a plain queue).
    #[error("{object} is a {kind}, which has no {operation}")]
    Unsupported {
        /// The target, by name.
        object: String,
        /// Its kind.
        kind: ObjectKind,
        /// The operation.
        operation: String,
    },
    /// An index outside a list or array.
    #[error("index {index} is out of range for {what} of length {len}")]
    IndexOutOfRange {
        /// The sequence, for example "list `jobs`".
        what: String,
        /// The index asked for.
        index: i64,
        /// The sequence's length.
        len: u64,
    },
    /// A dict has no such key.
    #[error("{what} has no such key")]
    NoSuchKey {
        /// The dict, for example "dict `cache`".
        what: String,
    },
    /// A value looked for is not there (`list.remove`, `list.index`,
    /// `set.remove`).
    #[error("{what} does not contain the value")]
    NotFound {
        /// The collection.
        what: String,
    },
    /// Nothing to take: an empty queue (after its wait), an empty list or
    /// set to pop from.
    #[error("{what} is empty")]
    Empty {
        /// The collection.
        what: String,
    },
    /// A bounded queue stayed full for the whole wait.
    #[error("{what} is full")]
    Full {
        /// The queue.
        what: String,
    },
    /// Release (or wait, or notify) by an owner that does not hold the lock.
    #[error("{what} is not held by this owner")]
    NotHeld {
        /// The lock or condition.
        what: String,
    },
    /// More releases than acquires: a bounded semaphore past its bound, or
    /// `task_done` more often than items were put.
    #[error("{what}: {detail}")]
    TooManyReleases {
        /// The object.
        what: String,
        /// What exactly, for example "released past its bound of 3".
        detail: String,
    },
    /// The barrier was broken (aborted, reset, or a wait timed out).
    #[error("{what} is broken")]
    BrokenBarrier {
        /// The barrier.
        what: String,
    },
    /// A name that is not a valid object name.
    #[error("`{name}` is not a valid object name: {reason}")]
    InvalidName {
        /// The (possibly shortened) name.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// The namespace has no such attribute.
    #[error("namespace `{namespace}` has no attribute `{attribute}`")]
    NoSuchAttribute {
        /// The namespace's name.
        namespace: String,
        /// The attribute asked for.
        attribute: String,
    },
    /// A stored value was asked for as another type. The message names
    /// the types as a Rust user writes them (`String`); the fields hold the
    /// full type tags (`alloc::string::String`).
    #[error(
        "{what} holds a value of type `{}`, not `{}`",
        short_type_name(.stored),
        short_type_name(.requested)
    )]
    WrongType {
        /// What was read, for example "attribute `x` of namespace `cfg`".
        what: String,
        /// The type it was stored as.
        stored: String,
        /// The type asked for.
        requested: String,
    },
    /// A number was asked for as another type of its family (an integer
    /// width, or a float) that cannot hold it exactly.
    #[error(
        "{what} holds the `{}` {value}, which `{}` cannot hold",
        short_type_name(.stored),
        short_type_name(.requested)
    )]
    DoesNotFit {
        /// What was read, for example "attribute `x` of namespace `cfg`".
        what: String,
        /// The number.
        value: String,
        /// The type it was stored as.
        stored: String,
        /// The type asked for.
        requested: String,
    },
    /// A stored value's bytes do not decode as its own type (a client built
    /// from other sources wrote it).
    #[error("{what} cannot be decoded: {reason}")]
    Undecodable {
        /// What was read.
        what: String,
        /// The decoder's complaint.
        reason: String,
    },
    /// An atomic add would overflow the type the value is stored as, or
    /// the `i64` an add returns.
    #[error("adding {delta} to {what} (now {current}) overflows {}", overflowed(.stored, .bound))]
    Overflow {
        /// What was added to.
        what: String,
        /// Its value before the add.
        current: String,
        /// The amount added.
        delta: i64,
        /// The type the value is stored as, for example `i32`.
        stored: String,
        /// The type whose range the sum leaves: `stored`, or `i64` when the
        /// sum fits the stored type but not the `i64` an add returns.
        bound: String,
    },
    /// The target's mailbox is full and the request could not be queued.
    #[error("{target} is busy: its mailbox is full")]
    Busy {
        /// The object that is busy.
        target: String,
    },
    /// A reply would not fit in one frame.
    #[error("the reply of {size} bytes exceeds the maximum frame size of {max} bytes")]
    ReplyTooLarge {
        /// The encoded reply's size.
        size: usize,
        /// The largest frame allowed.
        max: usize,
    },
    /// The manager is shutting down and no longer takes requests.
    #[error("the manager is shutting down")]
    ShuttingDown,
    /// A request the manager could not make sense of.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A create asked for a custom type this manager has not registered.
    #[error("this manager has no object type `{type_name}` (registered: {})", known_types(.registered))]
    UnknownType {
        /// The type asked for.
        type_name: String,
        /// The custom types the manager knows.
        registered: Vec<String>,
    },
    /// A custom object's code panicked: in this request (`earlier` false),
    /// or in an earlier one, which left the object poisoned.
    #[error("{object} panicked{}: {message}", if *.earlier { " in an earlier request and serves no more" } else { "" })]
    Panicked {
        /// The object, for example "ledger `bank`".
        object: String,
        /// The panic's message.
        message: String,
        /// Whether the panic happened in an earlier request.
        earlier: bool,
    },
    /// A limit of the manager refused the request: too many objects, parked
    /// requests on one connection, and the like. Each limit is a setting of
    /// the manager (see docs/security.md).
    #[error("too many {what}: the limit is {max}")]
    LimitReached {
        /// What there would be too many of, for example "objects" or
        /// "parked requests on this connection".
        what: String,
        /// The limit.
        max: u64,
    },
    /// A custom type refused to create an object from its parameters.
    #[error("cannot create {object}: {reason}")]
    CreateFailed {
        /// The object, for example "ledger `bank`".
        object: String,
        /// The type's explanation.
        reason: String,
    },
    /// A parked request was taken back by its caller
    /// ([`ObjectRequest::Cancel`](crate::request::ObjectRequest::Cancel)):
    /// it changed nothing.
    #[error("cancelled by its caller while it waited")]
    Cancelled,
    /// An object was asked for with another size than it has (a shared
    /// memory block created with one size and asked for with another).
    #[error("{what} is {size} bytes long, not {requested}")]
    WrongSize {
        /// The object, for example "shared memory `frames`".
        what: String,
        /// Its size.
        size: u64,
        /// The size asked for.
        requested: u64,
    },
}

fn overflowed(stored: &str, bound: &str) -> String {
    if stored == bound {
        format!("its type `{}`", short_type_name(stored))
    } else {
        format!("`{bound}`, the type an add returns")
    }
}

fn known_types(registered: &[String]) -> String {
    if registered.is_empty() {
        "none".to_owned()
    } else {
        registered.join(", ")
    }
}

//! What a custom kind is written with: the trait every built-in kind
//! (queue, lock, barrier, ...) implements, for a custom type whose
//! requests may wait.
//!
//! A [`CustomObject`](crate::CustomObject) answers each request at once.
//! A type that must park a request and answer it later (a blocking pop,
//! "wait until the count reaches 10"), time a wait, hear of a wait its
//! caller gave up, or report more than a size to an inspection writes its
//! state against [`ObjectState`] instead, as the built-in kinds do, and
//! registers it with
//! [`ManagerBuilder::register_kind`](crate::ManagerBuilder::register_kind):
//!
//! - its wire side is a [`CustomType`](crate::CustomType) as usual; a
//!   request that waits carries a [`Wait`] and says where it is
//!   ([`CustomType::wait_mut`](crate::CustomType::wait_mut)), so a client
//!   bounds it by its timeout and takes it back when it gives up;
//! - its state implements [`ObjectState`] with
//!   `type Request = CustomRequest<TheType>` and [`CustomKind`] (the type
//!   and how to create a state);
//! - it parks requests in [`Waiters`], and answers with
//!   [`Caller::reply_custom`].
//!
//! See [`CustomKind`] for a whole example, and *Panics* in
//! [`manager_actors::actor`] for what a panic in such a state does.

pub use manager_actors::actor::{ObjectContext, ObjectState};
pub use manager_actors::reply::GiveBackNeeds;
pub use manager_actors::waiters::{Waiter, WaiterId, Waiters};
pub use manager_actors::{Caller, ConnectionId, CustomKind};
pub use manager_core::custom::CustomRequest;
pub use manager_core::inspect::{Holding, KindDetail, ObjectDetail};
pub use manager_core::reply::Reply;
pub use manager_core::request::{RequestId, Wait};

//! [`QueueState`]: a FIFO queue, optionally bounded and joinable.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct QueueState {}

impl QueueState {
    /// An empty queue.
    pub fn new(maxsize: Option<u64>, joinable: bool) -> Self {
        let _ = (maxsize, joinable);
        Self::default()
    }
}

impl ObjectState for QueueState {
    fn handle(
        &mut self,
        request: ObjectRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        let _ = request;
        caller.reply(Err(ctx.unsupported("this operation yet")));
    }
}

//! [`SemaphoreState`]: a counting semaphore, bounded or not.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct SemaphoreState {}

impl SemaphoreState {
    /// A semaphore with `value` units.
    pub fn new(value: u64, bounded: bool) -> Self {
        let _ = (value, bounded);
        Self::default()
    }
}

impl ObjectState for SemaphoreState {
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

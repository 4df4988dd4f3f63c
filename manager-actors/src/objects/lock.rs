//! [`LockState`]: a lock or re-entrant lock held by an owner.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct LockState {}

impl LockState {
    /// An unheld lock.
    pub fn new(reentrant: bool) -> Self {
        let _ = reentrant;
        Self::default()
    }
}

impl ObjectState for LockState {
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

//! [`ConditionState`]: a condition variable with its own re-entrant lock.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct ConditionState {}

impl ConditionState {
    /// A condition with an unheld lock.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ObjectState for ConditionState {
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

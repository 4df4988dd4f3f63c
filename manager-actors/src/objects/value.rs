//! [`ValueState`]: one shared value, like Python's `Manager().Value()`.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct ValueState {}

impl ValueState {
    /// A value holding `initial`.
    pub fn new(initial: manager_core::Encoded) -> Self {
        let _ = initial;
        Self::default()
    }
}

impl ObjectState for ValueState {
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

//! [`ArrayState`]: a fixed-length sequence, like Python's `Manager().Array()`.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct ArrayState {}

impl ArrayState {
    /// An array holding `items`.
    pub fn new(items: Vec<manager_core::Encoded>) -> Self {
        let _ = items;
        Self::default()
    }
}

impl ObjectState for ArrayState {
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

//! [`ListState`]: a list, like Python's `Manager().list()`.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct ListState {}

impl ListState {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ObjectState for ListState {
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

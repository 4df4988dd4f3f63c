//! [`BarrierState`]: a barrier for a fixed number of parties.
//!
//! Not written yet: every request is refused as unsupported.

use manager_core::request::ObjectRequest;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// The state of one object of this kind.
#[derive(Debug, Default)]
pub struct BarrierState {}

impl BarrierState {
    /// A barrier for `parties` waiters.
    pub fn new(parties: u64) -> Self {
        let _ = parties;
        Self::default()
    }
}

impl ObjectState for BarrierState {
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

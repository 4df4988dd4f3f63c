//! [`Handles`]: the objects one connection has used, by id, so its requests
//! go straight to each object's mailbox without asking the registry.
//!
//! # Removed objects
//!
//! A handle keeps its object's mailbox alive, so a connection that kept the
//! handle of every object it ever used would keep every removed object's
//! memory until it closes. Handles of stopped objects are therefore
//! dropped: whenever the map has doubled since it was last pruned, and
//! whenever this connection has removed as many objects as half the map
//! holds. The map thus holds at most about twice the live objects the
//! connection uses, and memory of objects it removes comes back soon after.

use std::collections::HashMap;

use manager_actors::object::ObjectHandle;
use manager_core::ObjectId;

/// Below this many handles, nothing is pruned.
const PRUNE_FROM: usize = 64;

/// The handles of the objects a connection has used.
#[derive(Debug)]
pub(crate) struct Handles {
    map: HashMap<ObjectId, ObjectHandle>,
    /// Prune when the map reaches this many handles.
    prune_at: usize,
    /// Objects this connection removed since the last pruning.
    removed: usize,
}

impl Handles {
    pub(crate) fn new() -> Self {
        Handles {
            map: HashMap::new(),
            prune_at: PRUNE_FROM,
            removed: 0,
        }
    }

    pub(crate) fn get(&self, id: &ObjectId) -> Option<&ObjectHandle> {
        self.map.get(id)
    }

    pub(crate) fn contains(&self, id: &ObjectId) -> bool {
        self.map.contains_key(id)
    }

    pub(crate) fn insert(&mut self, handle: ObjectHandle) {
        self.map.insert(handle.id, handle);
        if self.map.len() >= self.prune_at {
            self.prune();
        }
    }

    pub(crate) fn remove(&mut self, id: &ObjectId) -> Option<ObjectHandle> {
        self.map.remove(id)
    }

    /// This connection removed an object (its actor stops soon after).
    pub(crate) fn removed_one(&mut self) {
        self.removed += 1;
        if self.removed * 2 >= self.map.len().max(PRUNE_FROM) {
            self.prune();
        }
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &ObjectHandle> {
        self.map.values()
    }

    /// Drops the handles of objects that have stopped.
    fn prune(&mut self) {
        self.map.retain(|_, handle| handle.mailbox.connected());
        if self.map.capacity() > 4 * self.map.len().max(PRUNE_FROM) {
            self.map.shrink_to_fit();
        }
        self.prune_at = (2 * self.map.len()).max(PRUNE_FROM);
        self.removed = 0;
    }
}

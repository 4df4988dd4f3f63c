//! [`Handles`]: the objects one connection has used, by id, so its requests
//! go straight to each object's mailbox without asking the registry.
//!
//! # Removed objects
//!
//! A handle keeps its object's mailbox alive, so a connection that kept the
//! handle of every object it ever used would keep every removed object's
//! memory until it closes. So:
//!
//! - an object this connection removes loses its handle at once;
//! - an object removed by another connection loses it when this one next
//!   sends to it (the object is gone), or when the sweep finds it: each
//!   handle added checks [`SWEEP`] others, in turn, and drops those whose
//!   object has stopped. A full round of checks over `n` handles takes
//!   `n / 3` additions, so the map holds at most about one and a half
//!   times the objects the connection used in the last round, and no step
//!   walks the whole map (with 100,000 handles, a walk held the thread for
//!   tens of milliseconds).

use std::collections::HashMap;

use manager_actors::object::ObjectHandle;
use manager_core::ObjectId;

/// How many handles each addition checks.
const SWEEP: usize = 4;

/// The handles of the objects a connection has used.
#[derive(Debug, Default)]
pub(crate) struct Handles {
    /// The handles, in no order.
    slots: Vec<ObjectHandle>,
    /// Where each object's handle is in `slots`.
    index: HashMap<ObjectId, usize>,
    /// The next slot the sweep checks.
    cursor: usize,
}

impl Handles {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn get(&self, id: &ObjectId) -> Option<&ObjectHandle> {
        self.index.get(id).map(|&slot| &self.slots[slot])
    }

    pub(crate) fn contains(&self, id: &ObjectId) -> bool {
        self.index.contains_key(id)
    }

    /// Checks a few handles, then adds (or replaces) `handle`: never swept
    /// out by its own addition, so a handle just added is there to use.
    pub(crate) fn insert(&mut self, handle: ObjectHandle) {
        self.sweep(SWEEP);
        match self.index.get(&handle.id) {
            Some(&slot) => self.slots[slot] = handle,
            None => {
                self.index.insert(handle.id, self.slots.len());
                self.slots.push(handle);
            }
        }
    }

    /// Drops the handle of `id`, if there is one.
    pub(crate) fn remove(&mut self, id: &ObjectId) -> Option<ObjectHandle> {
        let slot = self.index.remove(id)?;
        let handle = self.slots.swap_remove(slot);
        if let Some(moved) = self.slots.get(slot) {
            self.index.insert(moved.id, slot);
        }
        if self.slots.capacity() > 64 && self.slots.len() < self.slots.capacity() / 4 {
            // Most were removed: give the room back (what is left is small).
            self.slots.shrink_to(self.slots.len() * 2);
            self.index.shrink_to(self.slots.len() * 2);
        }
        Some(handle)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &ObjectHandle> {
        self.slots.iter()
    }

    /// Checks the next `n` handles, dropping those whose object stopped.
    fn sweep(&mut self, n: usize) {
        for _ in 0..n {
            if self.cursor >= self.slots.len() {
                self.cursor = 0;
                if self.slots.is_empty() {
                    return;
                }
            }
            let handle = &self.slots[self.cursor];
            if handle.mailbox.connected() {
                self.cursor += 1;
            } else {
                // The last slot moves into this one: checked next.
                let id = handle.id;
                self.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix::Actor;
    use manager_actors::registry::{RegistryActor, RegistryCall};
    use manager_core::reply::RegistryReply;
    use manager_core::request::RegistryRequest;
    use manager_core::{ObjectSpec, WireName};

    use super::*;

    async fn call(
        registry: &actix::Addr<RegistryActor>,
        request: RegistryRequest,
    ) -> manager_actors::registry::RegistryOutcome {
        registry
            .send(RegistryCall::new(request))
            .await
            .expect("registry runs")
    }

    async fn create(registry: &actix::Addr<RegistryActor>, name: &str) -> ObjectHandle {
        let outcome = call(
            registry,
            RegistryRequest::CreateOrGet {
                name: WireName::new(name),
                spec: ObjectSpec::Namespace,
            },
        )
        .await;
        outcome.handle.expect("created")
    }

    /// Objects another connection removed leave this connection's handles
    /// as it goes on adding others, without a walk of the whole map.
    #[actix::test]
    async fn handles_of_objects_removed_elsewhere_are_swept_out() {
        const OLD: usize = 1_000;
        let registry = RegistryActor::new().start();
        let mut handles = Handles::new();
        for i in 0..OLD {
            handles.insert(create(&registry, &format!("old{i}")).await);
        }
        for i in 0..OLD {
            let outcome = call(
                &registry,
                RegistryRequest::Remove {
                    name: WireName::new(format!("old{i}")),
                },
            )
            .await;
            assert_eq!(outcome.reply, Ok(RegistryReply::Removed(true)));
        }
        // Let the removed objects' actors stop.
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while handles.values().any(|h| h.mailbox.connected()) {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the removed objects stop");
        // Half as many additions as the map held: more than the round of
        // the sweep (a third) takes.
        for i in 0..OLD / 2 + 1 {
            handles.insert(create(&registry, &format!("new{i}")).await);
        }
        assert_eq!(
            handles.slots.len(),
            OLD / 2 + 1,
            "only live objects are left"
        );
        for (id, &slot) in &handles.index {
            assert_eq!(handles.slots[slot].id, *id);
        }
        assert!(handles.values().all(|h| h.mailbox.connected()));
    }

    /// Review: `Reader::resolve` inserts the handle the registry gave it
    /// and returns `true`; `Reader::dispatch` then does
    /// `let Some(handle) = self.handles.get(&target) else { continue; }`.
    /// If the object stopped between the registry's answer and the insert
    /// (another connection removed it), the insert's own sweep drops the
    /// handle just inserted, so `get` finds nothing and the calls are
    /// dropped with no reply at all: the client waits forever, and if one
    /// was a bulk request, `begin_bulk` waits forever for its reply, so the
    /// connection's reader stalls for good.
    #[actix::test]
    async fn a_handle_just_inserted_is_there() {
        let registry = RegistryActor::new().start();
        let handle = create(&registry, "soon-gone").await;
        let id = handle.id;
        let outcome = call(
            &registry,
            RegistryRequest::Remove {
                name: WireName::new("soon-gone"),
            },
        )
        .await;
        assert_eq!(outcome.reply, Ok(RegistryReply::Removed(true)));
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while handle.mailbox.connected() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the removed object stops");
        // What `resolve` does with the handle `ResolveId` returned just
        // before the removal.
        let mut handles = Handles::new();
        handles.insert(handle);
        assert!(
            handles.get(&id).is_some(),
            "resolve() returned true but dispatch() finds no handle: its calls get no reply"
        );
    }

    #[actix::test]
    async fn a_removed_handle_leaves_the_index_consistent() {
        let registry = RegistryActor::new().start();
        let mut handles = Handles::new();
        let mut ids = Vec::new();
        for i in 0..10 {
            let handle = create(&registry, &format!("o{i}")).await;
            ids.push(handle.id);
            handles.insert(handle);
        }
        assert!(handles.remove(&ids[0]).is_some());
        assert!(handles.remove(&ids[0]).is_none());
        assert!(!handles.contains(&ids[0]));
        for id in &ids[1..] {
            assert_eq!(handles.get(id).map(|h| h.id), Some(*id));
        }
    }
}

//! [`Deadlines`]: the deadlines of one object's timed waits and its one
//! timer.
//!
//! The deadlines of timed waits are not timers of their own: every
//! [`Waiters`](super::Waiters) of an object shares the object's `Deadlines`, an ordered
//! index of `(deadline, id)` with one actix timer armed for the earliest.
//! When it fires, every wait whose deadline has passed ends, earliest
//! first (ties in arrival order), and the timer is armed for the next. So
//! `n` timed waits cost `O(n log n)` to end, and the actor's context holds
//! one timer, not `n`: actix polls every future spawned in a context on
//! each wake-up, so `n` timers would make every message to the object cost
//! `O(n)`.

use std::collections::BTreeSet;
use std::time::Instant;

use actix::SpawnHandle;

use super::WaiterId;
#[cfg(doc)]
use crate::actor::ObjectContext;

/// The deadlines of one object's timed waits, earliest first, and the one
/// timer armed to end them; see the module docs. The actor owns it, and
/// [`ObjectContext`] arms the timer.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    /// Ties are broken by id, so by arrival.
    index: BTreeSet<(Instant, WaiterId)>,
    /// The armed timer and the deadline it is armed for.
    timer: Option<(Instant, SpawnHandle)>,
}

impl Deadlines {
    pub(crate) fn insert(&mut self, deadline: Instant, id: WaiterId) {
        self.index.insert((deadline, id));
    }

    pub(crate) fn remove(&mut self, deadline: Instant, id: WaiterId) {
        self.index.remove(&(deadline, id));
    }

    /// Takes out the earliest wait whose deadline is at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<WaiterId> {
        let &(deadline, id) = self.index.first()?;
        (deadline <= now).then(|| {
            self.index.pop_first();
            id
        })
    }

    /// The earliest deadline.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.index.first().map(|&(deadline, _)| deadline)
    }

    /// Forgets the deadlines of the waiters in `ids`.
    pub(crate) fn remove_all_of(&mut self, ids: &BTreeSet<WaiterId>) {
        self.index.retain(|(_, id)| !ids.contains(id));
    }

    /// How many timed waits there are.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no timed wait.
    pub(crate) fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The deadline the timer is armed for, if it is armed.
    pub(crate) fn armed_for(&self) -> Option<Instant> {
        self.timer.map(|(at, _)| at)
    }

    /// Forgets the timer (it has fired, or is being stopped) and returns it.
    pub(crate) fn disarm(&mut self) -> Option<SpawnHandle> {
        self.timer.take().map(|(_, handle)| handle)
    }

    /// Records the timer armed for `deadline`.
    pub(crate) fn armed(&mut self, deadline: Instant, handle: SpawnHandle) {
        self.timer = Some((deadline, handle));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn deadlines_end_earliest_first_and_ties_in_arrival_order() {
        let mut deadlines = Deadlines::default();
        let t = Instant::now();
        let (a, b, c, d) = (WaiterId(10), WaiterId(11), WaiterId(12), WaiterId(13));
        deadlines.insert(t + Duration::from_secs(2), a);
        deadlines.insert(t + Duration::from_secs(1), c);
        deadlines.insert(t + Duration::from_secs(1), b);
        deadlines.insert(t + Duration::from_secs(3), d);
        deadlines.remove(t + Duration::from_secs(3), d);
        assert_eq!(deadlines.earliest(), Some(t + Duration::from_secs(1)));
        assert_eq!(deadlines.pop_expired(t), None, "nothing has passed yet");
        let later = t + Duration::from_secs(2);
        let ended: Vec<_> = std::iter::from_fn(|| deadlines.pop_expired(later)).collect();
        assert_eq!(ended, [b, c, a]);
        assert!(deadlines.is_empty());
    }
}

//! [`ConditionState`]: a condition variable with its own re-entrant lock,
//! like Python's `Manager().Condition()`.
//!
//! The lock is a re-entrant [`OwnedLock`], as an `RLock`'s (see
//! [`LockState`](super::LockState)): held by one owner, taken again by it at
//! once, released only by it. This file keeps what is the condition's own:
//! the waits parked until a notify, and their way back to the lock.
//!
//! # Wait and notify
//!
//! A [`ConditionRequest::Wait`] from the holder remembers how many times it
//! took the lock, releases it completely (the next acquirer gets it) and
//! parks the waiter until a notify or the end of its wait. A notify moves up
//! to `n` waiters, longest-waiting first, to the back of the lock's acquirer
//! queue; a waiter whose wait ends moves there too. When such a waiter gets
//! the lock back, with its count restored, its reply goes out
//! ([`Reply::Woken`]): whether it was notified (not if its wait ended
//! first), and the count it holds again. So, as in Python, a `wait` always
//! returns with the lock held again; taking it back is not bounded by the
//! wait.
//!
//! # A wait given up by its caller
//!
//! A `wait` whose caller gave up (a timeout, a dropped future) may still
//! take the lock back, if its cancel comes too late. The client then gives
//! back exactly the holds its reply names ([`ConditionRequest::GiveBack`]),
//! when that reply reaches it; requests the same owner sent meanwhile came
//! first. An `acquire` among them was re-entrant (the owner held the lock
//! again) and stays held: the give-back takes only the restored holds,
//! from wherever that owner's holds are by then: its count if it holds the
//! lock, else the count its next `wait` saved (asleep, or queued to take
//! the lock back). Never more than is there; a parked `wait` left with
//! nothing to take back is answered [`ManagerError::NotHeld`], as it would
//! have been without the late grant.
//!
//! # What happens when a holder dies
//!
//! When a connection closes, its acquires and waits are dropped and, if one
//! of its owners holds the lock, the lock is released completely and handed
//! to the next acquirer.
//!
//! A notify is not lost on a dead waiter. A waiter whose process died
//! after the notify picked it (while it queued for the lock) is dropped
//! when its connection is known closed, or when its turn for the lock comes
//! and its connection is found gone; either way the notify passes to the
//! longest-waiting live `wait`, if there is one. (A `wait` whose connection
//! is already gone when the notify comes is skipped at once.) A notified
//! wait whose reply, with the lock, could not be delivered, or came after
//! its caller gave up, gives both back
//! ([`ConditionRequest::GiveBack`] with `pass_on_notify`): the holds it
//! took back are released and the notify passes on. (If its connection
//! closed first, that released the lock completely already, and the
//! give-back finds nothing more to release.)

use manager_core::ManagerError;
use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::{ConditionRequest, Owner, RequestId, Wait};

use super::owned_lock::{Acquirer, OwnedLock, Pending};
use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::{WaiterId, Waiters};

/// Why a request waits for the lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Resume {
    /// An acquire; replies `true`.
    #[default]
    Acquire,
    /// A notified wait taking the lock back; replies `true`.
    Notified,
    /// A wait that ended without a notify taking the lock back; replies
    /// `false`.
    TimedOut,
}

impl Pending for Resume {
    const MAY_PASS_ON: bool = true;

    /// An acquire answers `true`; a wait, whether it was notified and what
    /// it holds again.
    fn answer(self, holds: u64) -> Reply {
        match self {
            Resume::Acquire => Reply::Bool(true),
            Resume::Notified | Resume::TimedOut => Reply::Woken {
                notified: self == Resume::Notified,
                holds,
            },
        }
    }

    /// A wait takes back what its owner held before it waited.
    fn restores(self) -> bool {
        self != Resume::Acquire
    }

    /// A notified wait that will never take the lock back passes its
    /// notify on.
    fn passes_on(self) -> bool {
        self == Resume::Notified
    }
}

/// A `wait` waiting for a notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sleeper {
    owner: Owner,
    /// How many times it held the lock before it waited.
    count: u64,
}

/// The state of one condition.
#[derive(Debug)]
pub struct ConditionState {
    /// The lock, with the acquires and the waits taking it back, in
    /// arrival order.
    lock: OwnedLock<Resume>,
    /// Waits parked until a notify.
    sleepers: Waiters<Sleeper>,
}

impl Default for ConditionState {
    fn default() -> Self {
        Self::new()
    }
}

impl ConditionState {
    /// A condition with an unheld lock.
    pub fn new() -> Self {
        ConditionState {
            lock: OwnedLock::new(true),
            sleepers: Waiters::default(),
        }
    }

    /// Whether `owner` of `connection` holds the lock.
    fn holds(&self, connection: ConnectionId, owner: Owner) -> bool {
        self.lock.held_by(connection, owner).is_some()
    }

    /// Moves a waiter to the back of the lock's acquires, to take the lock
    /// back with its count whenever its turn comes.
    fn requeue(
        &mut self,
        caller: Caller,
        sleeper: Sleeper,
        resume: Resume,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        let acquirer = Acquirer {
            owner: sleeper.owner,
            count: sleeper.count,
            pending: resume,
        };
        // It keeps the place it had among its connection's parked requests,
        // so it is never refused here.
        let requeued = self.lock.enqueue(caller, acquirer, Wait::Forever, ctx);
        debug_assert!(requeued.is_some(), "a parked wait was refused its requeue");
    }

    /// Wakes up to `n` waiting `wait`s; returns how many.
    fn notify(&mut self, n: u64, ctx: &mut ObjectContext<'_, Self>) -> u64 {
        let mut woken = 0;
        while woken < n {
            let Some(sleeper) = self.sleepers.pop_front(ctx) else {
                break;
            };
            self.requeue(sleeper.caller, sleeper.data, Resume::Notified, ctx);
            woken += 1;
        }
        woken
    }

    /// Gives a free lock to the longest-waiting acquirer whose connection
    /// is still open (see [`OwnedLock::hand_over`]).
    fn hand_over(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        let lost = self.lock.hand_over(ctx);
        self.pass_on(lost, ctx);
    }

    /// Passes on `lost` notifies, of notified waits that will never take
    /// the lock back, each to one more live waiter, and hands a free lock
    /// on (which may find more of them).
    fn pass_on(&mut self, mut lost: u64, ctx: &mut ObjectContext<'_, Self>) {
        while lost > 0 {
            let woken = self.notify(lost, ctx);
            tracing::debug!(
                condition = %ctx.what(),
                lost,
                woken,
                "notified waits gone or given back; notifies passed on"
            );
            lost = self.lock.hand_over(ctx);
        }
    }

    /// Gives back up to `holds` of the holds of `owner` of `connection`,
    /// wherever they are (see the module docs): its count if it holds the
    /// lock, else that of its sleeping wait, else that of its wait queued
    /// to take the lock back. A wait left with nothing is answered
    /// [`ManagerError::NotHeld`]. Returns how many were given back, and
    /// how many notifies are to be passed on (of a notified wait so
    /// answered). The lock is not handed on yet.
    fn give_back(
        &mut self,
        connection: ConnectionId,
        owner: Owner,
        holds: u64,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> (u64, u64) {
        if let Some(given) = self.lock.give_back_held(connection, owner, holds) {
            return (given, 0);
        }
        if let Some(id) = self.sleepers.find_of(connection, |s| s.owner == owner)
            && let Some(sleeper) = self.sleepers.data_mut(id)
        {
            let given = holds.min(sleeper.count);
            sleeper.count -= given;
            if sleeper.count == 0
                && let Some(emptied) = self.sleepers.take(id, ctx)
            {
                emptied.caller.reply(Err(Self::not_held(ctx)));
            }
            return (given, 0);
        }
        match self.lock.give_back_parked(connection, owner, holds, ctx) {
            Some((given, emptied)) => {
                let lost = emptied.map_or(0, |emptied| {
                    emptied.caller.reply(Err(Self::not_held(ctx)));
                    u64::from(emptied.data.pending.passes_on())
                });
                (given, lost)
            }
            None => (0, 0),
        }
    }

    fn not_held(ctx: &ObjectContext<'_, Self>) -> ManagerError {
        ManagerError::NotHeld { what: ctx.what() }
    }
}

impl ObjectState for ConditionState {
    type Request = ConditionRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Condition {
                locked: self.lock.is_locked(),
                sleepers: self.sleepers.len() as u64,
            },
            waiters: (self.lock.parked() + self.sleepers.len()) as u64,
            bytes_held: 0,
            holders: self.lock.holders(),
        }
    }

    fn handle(
        &mut self,
        request: ConditionRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        match request {
            ConditionRequest::Acquire { owner, wait } => {
                self.lock.acquire(owner, wait, caller, ctx);
            }
            ConditionRequest::Release { owner } => {
                let lost = self.lock.release(owner, caller, ctx);
                self.pass_on(lost, ctx);
            }
            ConditionRequest::Wait { owner, wait } => {
                let connection = caller.connection;
                let Some(count) = self.lock.held_by(connection, owner) else {
                    return caller.reply(Err(Self::not_held(ctx)));
                };
                // `Wait::No` parks too, with a deadline that ends it at once:
                // it still lets acquirers in before taking the lock back, as
                // Python's `wait(0)` does. A wait refused (its connection has
                // too many parked requests) keeps the lock.
                let sleeper = Sleeper { owner, count };
                if self.sleepers.park(caller, sleeper, wait, ctx).is_some() {
                    self.lock.release_completely(connection, owner);
                    self.hand_over(ctx);
                }
            }
            ConditionRequest::Notify { owner, n } => {
                if !self.holds(caller.connection, owner) {
                    return caller.reply(Err(Self::not_held(ctx)));
                }
                let woken = self.notify(n, ctx);
                caller.reply(Ok(Reply::Count(woken)));
            }
            ConditionRequest::NotifyAll { owner } => {
                if !self.holds(caller.connection, owner) {
                    return caller.reply(Err(Self::not_held(ctx)));
                }
                let woken = self.notify(u64::MAX, ctx);
                caller.reply(Ok(Reply::Count(woken)));
            }
            ConditionRequest::ReleaseAll {
                owner,
                pass_on_notify,
            } => {
                let released = self.lock.release_completely(caller.connection, owner);
                caller.reply(Ok(Reply::Count(released)));
                // The lock goes to the next acquirer first; a wait woken by
                // the given-back notify queues behind it.
                let lost = self.lock.hand_over(ctx);
                self.pass_on(lost + u64::from(pass_on_notify), ctx);
            }
            ConditionRequest::GiveBack {
                owner,
                holds,
                pass_on_notify,
            } => {
                let (given, lost) = self.give_back(caller.connection, owner, holds, ctx);
                caller.reply(Ok(Reply::Count(given)));
                // As `ReleaseAll`: a freed lock goes to the next acquirer
                // first; a wait woken by a given-back notify queues behind
                // it.
                let lost = lost + self.lock.hand_over(ctx);
                self.pass_on(lost + u64::from(pass_on_notify), ctx);
            }
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(sleeper) = self.sleepers.take(waiter, ctx) {
            // Its wait ended without a notify: it takes the lock back, then
            // answers `false`.
            self.requeue(sleeper.caller, sleeper.data, Resume::TimedOut, ctx);
            self.hand_over(ctx);
        } else {
            self.lock.timed_out(waiter, ctx);
        }
    }

    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        // A sleeping wait released the lock when it began: it holds nothing.
        if self.sleepers.cancel(connection, request, ctx) {
            return true;
        }
        let Some(resume) = self.lock.cancel(connection, request, ctx) else {
            return false;
        };
        // A wait taking the lock back that a notify picked: the notify wakes
        // another wait instead, as when its connection closes.
        let lost = u64::from(resume.passes_on()) + self.lock.hand_over(ctx);
        self.pass_on(lost, ctx);
        true
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        // Nobody is left to read these requests' replies.
        self.sleepers.drop_connection(connection, ctx);
        // A notify that picked one of its waits wakes another instead.
        let lost = self.lock.connection_closed(connection, ctx);
        self.pass_on(lost, ctx);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        self.lock.removed(ctx);
        for waiter in self.sleepers.drain(ctx) {
            waiter.caller.reply(Err(ctx.gone()));
        }
    }
}

#[cfg(test)]
mod tests;

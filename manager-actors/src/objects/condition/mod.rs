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
//! first), the count it holds again, and the wait's id. So, as in Python, a `wait` always
//! returns with the lock held again; taking it back is not bounded by the
//! wait.
//!
//! # A wait given up by its caller
//!
//! A `wait` whose caller gave up (a timeout, a dropped future) may still
//! take the lock back, if its cancel comes too late. The lock records the
//! grant with its holder (see [`OwnedLock::give_back_grant`]), and the
//! grant is given back, if the lock has not changed hands since, by the
//! first of:
//!
//! - the cancel ([`ObjectRequest::Cancel`]), which the client sends as it
//!   gives up, before any later request of that owner: the holds the wait
//!   restored are released and the notify it consumed passes on, so no
//!   later request of the owner sees the late holds. The cancel answers
//!   `false` (nothing parked was taken back);
//! - [`ConditionRequest::GiveBack`], naming the wait: sent by the client
//!   at once for a reply that came but was not read, or when a reply comes
//!   after a cancel (which gave it back already: the give-back does
//!   nothing), and by the manager for a reply it could not deliver.
//!
//! A give-back never takes holds the owner got from a later request: an
//! `acquire` since stays held, and so does a later `wait` that took the
//! lock back and was answered, as the lock changed hands in between. (A
//! `wait` with [`Wait::No`] is not cancelled by the client: its late reply
//! is given back when it arrives, after the owner's later requests; a
//! `release` among them uses up the grant's holds first.)
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
//! ([`ConditionRequest::GiveBack`] with `pass_on_notify`, or the cancel): the
//! holds it took back are released and the notify passes on, once. (If
//! its connection closed first, that released the lock completely
//! already: the give-back of its undelivered reply only passes the notify
//! on.)

use manager_core::ManagerError;
use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
#[cfg(doc)]
use manager_core::request::ObjectRequest;
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
    fn answer(self, holds: u64, request: RequestId) -> Reply {
        match self {
            Resume::Acquire => Reply::Bool(true),
            Resume::Notified | Resume::TimedOut => Reply::Woken {
                notified: self == Resume::Notified,
                holds,
                wait: request,
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
    /// Requests parked on it: waits for a notify, and for its lock.
    fn n_waiting(&self) -> u64 {
        (self.lock.parked() + self.sleepers.len()) as u64
    }

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

    /// Gives back the grant of wait `wait` of `connection`, if the lock is
    /// held through it still (see [`OwnedLock::give_back_grant`]): up to
    /// `holds` of the holds it restored, then hands a freed lock on and,
    /// if `pass_on_notify` (or, with `None`, if the wait was notified),
    /// passes on the notify it consumed. Returns how many holds were given
    /// back, `None` if the lock is not held through that grant.
    fn give_back(
        &mut self,
        connection: ConnectionId,
        wait: RequestId,
        holds: u64,
        pass_on_notify: Option<bool>,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> Option<u64> {
        let (given, notified) = self.lock.give_back_grant(connection, wait, holds)?;
        // As `ReleaseAll`: a freed lock goes to the next acquirer first; a
        // wait woken by the given-back notify queues behind it.
        let lost = self.lock.hand_over(ctx);
        self.pass_on(lost + u64::from(pass_on_notify.unwrap_or(notified)), ctx);
        Some(given)
    }

    fn not_held(ctx: &ObjectContext<'_, Self>) -> ManagerError {
        ManagerError::NotHeld { what: ctx.what() }
    }
}

/// The state of a new condition (`ObjectSpec::Condition`).
pub(super) fn condition(_: &super::Making<'_>) -> Result<ConditionState, ManagerError> {
    Ok(ConditionState::new())
}

impl ObjectState for ConditionState {
    type Request = ConditionRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Condition {
                locked: self.lock.is_locked(),
                sleepers: self.sleepers.len() as u64,
            },
            waiters: self.n_waiting(),
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
            ConditionRequest::NWaiting => caller.reply(Ok(Reply::Count(self.n_waiting()))),
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
                owner: _,
                holds,
                pass_on_notify,
                wait,
            } => {
                // The grant, named by its connection and wait, is the
                // holder's only if that owner holds the lock through it.
                let connection = caller.connection;
                let given = self.give_back(connection, wait, holds, Some(pass_on_notify), ctx);
                caller.reply(Ok(Reply::Count(given.unwrap_or(0))));
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
            // Not parked: if it is a wait that has taken the lock back, its
            // reply on the way to a caller that gave up, and the lock is
            // held through that grant still, the grant is given back now,
            // before any later request of its owner (the client sends the
            // cancel first), and the notify it consumed passes on. Its
            // reply still comes: `false`, nothing parked was taken back.
            self.give_back(connection, request, u64::MAX, None, ctx);
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

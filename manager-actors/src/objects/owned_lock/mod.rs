//! [`OwnedLock`]: a lock held by one owner, the core that
//! [`LockState`](super::LockState) (plain and re-entrant) and
//! [`ConditionState`](super::ConditionState) are built on.
//!
//! It owns the holder (a connection plus the [`Owner`] the client named,
//! and how many times over it holds the lock), re-entry, the acquires
//! parked for the lock and the hand-over to them in arrival order, release
//! (once, or completely) by whoever may, release when the holder's
//! connection closes, the timeout or cancel of a parked acquire, and what
//! an inspection reports of it. A kind keeps only what is its own next to
//! it (a condition's notify and wait).
//!
//! # Who may release
//!
//! A re-entrant lock is released only by its holder (`owner` of the holding
//! connection), once per acquire. A plain lock, which is never re-entered
//! and so held once, is released by any owner of the holding connection.
//! Nobody releases a lock nobody holds. [`LockState`](super::LockState)
//! says why.
//!
//! # Hand-over
//!
//! A free lock goes to the longest-parked acquire whose connection is still
//! open; one found gone on the way is dropped. What a kind keeps with a
//! parked acquire ([`Pending`]) says what the acquire answers once it has
//! the lock, and whether one that leaves without it (its connection gone,
//! or cancelled) leaves something behind to pass on (a condition's notify):
//! the operations that drop such acquires return how many did, and the
//! kind passes that on. A grant whose reply cannot be delivered comes back
//! to the kind as a release ([`ObjectState::undelivered`]), which hands the
//! lock on again.
//!
//! When the holder's connection closes, the lock is released completely,
//! however many times it was taken, and handed on; the connection's parked
//! acquires are dropped first.

use manager_core::ManagerError;
use manager_core::inspect::Holding;
use manager_core::reply::Reply;
use manager_core::request::{Owner, RequestId, Wait};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::{Waiter, WaiterId, Waiters};

/// What a kind keeps with a parked acquire, besides its owner and count.
/// A plain acquire's is the [`Default`].
pub(crate) trait Pending: Copy + Default + Send + 'static {
    /// Whether any value [`Pending::passes_on`]; if not, a closed
    /// connection's acquires are dropped without being read.
    const MAY_PASS_ON: bool = false;

    /// What the acquire answers once it has the lock, `holds` times over.
    fn answer(self, holds: u64) -> Reply {
        let _ = holds;
        Reply::Bool(true)
    }

    /// Whether the acquire takes back holds its owner had before (a
    /// condition's wait), rather than taking the lock anew: a give-back
    /// of those holds takes from its count ([`OwnedLock::give_back_parked`]).
    fn restores(self) -> bool {
        false
    }

    /// Whether an acquire that leaves without the lock leaves something
    /// its kind must pass on.
    fn passes_on(self) -> bool {
        false
    }
}

/// A lock's acquires carry nothing: granted, they answer `true`.
impl Pending for () {}

/// Who holds the lock, and how many times over (always 1 for a plain lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Holder {
    /// The connection the holder's requests come on.
    connection: ConnectionId,
    /// The thread or task of that connection.
    owner: Owner,
    /// How many acquires are not yet released.
    count: u64,
}

impl Holder {
    /// Whether `owner` on `connection` is this holder.
    fn is(&self, connection: ConnectionId, owner: Owner) -> bool {
        self.connection == connection && self.owner == owner
    }
}

/// A request parked for the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Acquirer<P> {
    /// Whom it takes the lock for.
    pub(crate) owner: Owner,
    /// How many times over it holds the lock once it has it.
    pub(crate) count: u64,
    /// What its kind keeps with it.
    pub(crate) pending: P,
}

/// A lock held by one owner of one connection; see the module docs.
#[derive(Debug)]
pub(crate) struct OwnedLock<P: Pending = ()> {
    reentrant: bool,
    holder: Option<Holder>,
    /// Parked acquires, in arrival order.
    acquirers: Waiters<Acquirer<P>>,
}

impl<P: Pending> OwnedLock<P> {
    /// An unheld lock; `reentrant` lets its holder take it again at once
    /// (an `RLock`, a condition's lock).
    pub(crate) fn new(reentrant: bool) -> Self {
        OwnedLock {
            reentrant,
            holder: None,
            acquirers: Waiters::default(),
        }
    }

    /// Whether anyone holds the lock.
    pub(crate) fn is_locked(&self) -> bool {
        self.holder.is_some()
    }

    /// How many times over the lock is held; 0 if it is free.
    pub(crate) fn depth(&self) -> u64 {
        self.holder.map_or(0, |h| h.count)
    }

    /// How many times over `owner` of `connection` holds the lock, if it
    /// is the holder.
    pub(crate) fn held_by(&self, connection: ConnectionId, owner: Owner) -> Option<u64> {
        self.holder
            .filter(|h| h.is(connection, owner))
            .map(|h| h.count)
    }

    /// How many acquires are parked (some may be of connections that have
    /// gone but not yet been reported closed).
    pub(crate) fn parked(&self) -> usize {
        self.acquirers.len()
    }

    /// The holder, as an inspection reports it.
    pub(crate) fn holders(&self) -> Vec<Holding> {
        self.holder
            .iter()
            .map(|h| Holding {
                connection: h.connection.0,
                owner: h.owner.0,
                count: h.count,
            })
            .collect()
    }

    /// Takes the lock for `owner` of `caller`'s connection, or takes it
    /// again if that owner holds a re-entrant lock, answering `true`.
    /// Otherwise answers `false` for [`Wait::No`], or parks the acquire
    /// (with `P::default()`) until the lock is handed to it or its wait
    /// ends.
    pub(crate) fn acquire<S: ObjectState>(
        &mut self,
        owner: Owner,
        wait: Wait,
        caller: Caller,
        ctx: &mut ObjectContext<'_, S>,
    ) {
        match &mut self.holder {
            None => {
                self.holder = Some(Holder {
                    connection: caller.connection,
                    owner,
                    count: 1,
                });
                caller.reply(Ok(Reply::Bool(true)));
            }
            Some(holder) if self.reentrant && holder.is(caller.connection, owner) => {
                holder.count += 1;
                caller.reply(Ok(Reply::Bool(true)));
            }
            Some(_) if wait == Wait::No => caller.reply(Ok(Reply::Bool(false))),
            Some(_) => {
                let acquirer = Acquirer {
                    owner,
                    count: 1,
                    pending: P::default(),
                };
                self.acquirers.park(caller, acquirer, wait, ctx);
            }
        }
    }

    /// Parks `caller` at the back of the acquires, to take the lock as
    /// `acquirer` says once its turn comes; not handed over yet, even if
    /// the lock is free (see [`OwnedLock::hand_over`]). `None` if the
    /// caller was refused (and answered): see [`Waiters::park`].
    pub(crate) fn enqueue<S: ObjectState>(
        &mut self,
        caller: Caller,
        acquirer: Acquirer<P>,
        wait: Wait,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<WaiterId> {
        self.acquirers.park(caller, acquirer, wait, ctx)
    }

    /// Releases the lock once for `owner` of `caller`'s connection and
    /// answers `Done`, then hands a freed lock on; answers
    /// [`ManagerError::NotHeld`] if that owner may not release it (see the
    /// module docs). Returns how many acquires found gone on the way pass
    /// something on.
    pub(crate) fn release<S: ObjectState>(
        &mut self,
        owner: Owner,
        caller: Caller,
        ctx: &mut ObjectContext<'_, S>,
    ) -> u64 {
        let connection = caller.connection;
        let may = match &self.holder {
            Some(holder) if self.reentrant => holder.is(connection, owner),
            // Like `threading.Lock` within one process: any owner of the
            // holding connection.
            Some(holder) => holder.connection == connection,
            None => false,
        };
        let Some(holder) = self.holder.as_mut().filter(|_| may) else {
            caller.reply(Err(ManagerError::NotHeld { what: ctx.what() }));
            return 0;
        };
        holder.count -= 1;
        if holder.count == 0 {
            self.holder = None;
        }
        caller.reply(Ok(Reply::Done));
        self.hand_over(ctx)
    }

    /// Releases the lock completely if `owner` of `connection` holds it,
    /// and returns how many times over it held it (0 if it did not). The
    /// lock is not handed on yet: see [`OwnedLock::hand_over`].
    pub(crate) fn release_completely(&mut self, connection: ConnectionId, owner: Owner) -> u64 {
        match self.holder {
            Some(holder) if holder.is(connection, owner) => {
                self.holder = None;
                holder.count
            }
            _ => 0,
        }
    }

    /// Gives back up to `holds` of the holds of `owner` of `connection`, if
    /// it holds the lock, and returns how many (never more than it holds);
    /// `None` if it is not the holder. A lock left with none is released
    /// but not handed on yet: see [`OwnedLock::hand_over`].
    pub(crate) fn give_back_held(
        &mut self,
        connection: ConnectionId,
        owner: Owner,
        holds: u64,
    ) -> Option<u64> {
        let holder = self.holder.as_mut().filter(|h| h.is(connection, owner))?;
        let given = holds.min(holder.count);
        holder.count -= given;
        if holder.count == 0 {
            self.holder = None;
        }
        Some(given)
    }

    /// Gives back up to `holds` of the count that the longest-parked
    /// acquire of `owner` of `connection` that takes back earlier holds
    /// ([`Pending::restores`]) will take the lock with, and returns how
    /// many (never more than its count), with the acquire itself, taken
    /// out unanswered, if none are left to it (for its kind to answer);
    /// `None` if there is no such acquire.
    pub(crate) fn give_back_parked<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        owner: Owner,
        holds: u64,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<(u64, Option<Waiter<Acquirer<P>>>)> {
        let id = self
            .acquirers
            .find_of(connection, |a| a.owner == owner && a.pending.restores())?;
        let acquirer = self.acquirers.data_mut(id)?;
        let given = holds.min(acquirer.count);
        acquirer.count -= given;
        let emptied = if acquirer.count == 0 {
            self.acquirers.take(id, ctx)
        } else {
            None
        };
        Some((given, emptied))
    }

    /// Gives a free lock to the longest-parked acquire whose connection is
    /// still open, with its count, and answers it. Those found gone on the
    /// way are dropped; returns how many of them pass something on.
    pub(crate) fn hand_over<S: ObjectState>(&mut self, ctx: &mut ObjectContext<'_, S>) -> u64 {
        let mut lost = 0;
        while self.holder.is_none() {
            let Some(front) = self.acquirers.iter().next().map(|w| w.id) else {
                break;
            };
            let Some(waiter) = self.acquirers.take(front, ctx) else {
                break;
            };
            let Acquirer {
                owner,
                count,
                pending,
            } = waiter.data;
            if waiter.caller.is_gone() {
                lost += u64::from(pending.passes_on());
                continue;
            }
            self.holder = Some(Holder {
                connection: waiter.caller.connection,
                owner,
                count,
            });
            waiter.caller.reply(Ok(pending.answer(count)));
        }
        lost
    }

    /// Ends parked acquire `waiter`, answering `false`; `false` if it is
    /// not parked here.
    pub(crate) fn timed_out<S: ObjectState>(
        &mut self,
        waiter: WaiterId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> bool {
        let Some(waiter) = self.acquirers.take(waiter, ctx) else {
            return false;
        };
        waiter.caller.reply(Ok(Reply::Bool(false)));
        true
    }

    /// Takes parked acquire `request` of `connection` out and answers it
    /// [`ManagerError::Cancelled`]; returns what its kind kept with it, or
    /// `None` if it is not parked here. The lock is not handed on.
    pub(crate) fn cancel<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<P> {
        let waiter = self.acquirers.take_request(connection, request, ctx)?;
        waiter.caller.reply(Err(ManagerError::Cancelled));
        Some(waiter.data.pending)
    }

    /// `connection` has closed: drops its parked acquires, unanswered,
    /// releases the lock completely if one of its owners holds it, and
    /// hands a free lock on. Returns how many of the dropped acquires, and
    /// of those found gone on the way, pass something on.
    pub(crate) fn connection_closed<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> u64 {
        // Nobody is left to read these acquires' replies.
        let mut lost = 0;
        if P::MAY_PASS_ON {
            let dropped = self.acquirers.remove_connection(connection, ctx);
            lost = dropped
                .iter()
                .filter(|w| w.data.pending.passes_on())
                .count() as u64;
            let len = dropped.len();
            crate::discard::discard(dropped, len);
        } else {
            self.acquirers.drop_connection(connection, ctx);
        }
        if self.holder.is_some_and(|h| h.connection == connection) {
            tracing::debug!(
                object = %ctx.what(),
                %connection,
                "holder's connection closed; lock released"
            );
            self.holder = None;
        }
        lost + self.hand_over(ctx)
    }

    /// The object is being removed: answers every parked acquire with
    /// [`ObjectContext::gone`].
    pub(crate) fn removed<S: ObjectState>(&mut self, ctx: &mut ObjectContext<'_, S>) {
        for waiter in self.acquirers.drain(ctx) {
            waiter.caller.reply(Err(ctx.gone()));
        }
    }
}

#[cfg(test)]
mod tests;

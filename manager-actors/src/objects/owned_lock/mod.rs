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
//! # A grant given back
//!
//! The holder remembers the grant that made it the holder if that grant
//! took back holds its owner had before (a condition's wait,
//! [`Pending::restores`]), for as long as it holds the lock. A caller that
//! gave up on such a request gives back that grant only, by its request id
//! ([`OwnedLock::give_back_grant`]): once the lock has changed hands, the
//! holds the owner has came from later requests, and stay. An acquire of
//! the holder since the grant stays too: the give-back takes at most the
//! holds the grant restored. A release of the holder since uses up the
//! grant's holds first: what is left to give back is never more than the
//! holder's count after it, so an acquire after that release stays held.
//! (A client gives a grant back before its owner's next request, unless
//! it did not send a cancel for the request: see
//! [`ConditionState`](super::ConditionState).)
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
use crate::waiters::{WaiterId, Waiters};

/// What a kind keeps with a parked acquire, besides its owner and count.
/// A plain acquire's is the [`Default`].
pub(crate) trait Pending: Copy + Default + Send + 'static {
    /// Whether any value [`Pending::passes_on`]; if not, a closed
    /// connection's acquires are dropped without being read.
    const MAY_PASS_ON: bool = false;

    /// What the acquire, request `request`, answers once it has the lock,
    /// `holds` times over.
    fn answer(self, holds: u64, request: RequestId) -> Reply {
        let _ = (holds, request);
        Reply::Bool(true)
    }

    /// Whether the acquire takes back holds its owner had before (a
    /// condition's wait), rather than taking the lock anew: its grant is
    /// recorded with the holder, for it to be given back if its caller
    /// gave up ([`OwnedLock::give_back_grant`]).
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
    /// The grant of an acquire that restored earlier holds
    /// ([`Pending::restores`]) that made it the holder, until given back.
    grant: Option<Grant>,
}

/// The grant that made the holder hold the lock, when it took back earlier
/// holds (a condition's wait): what giving it back gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grant {
    /// The id of the request granted.
    request: RequestId,
    /// How many holds it restored.
    holds: u64,
    /// Whether it passes something on once given back
    /// ([`Pending::passes_on`]: a notify it consumed).
    passes_on: bool,
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
    /// The grant a holder whose connection closed held the lock through,
    /// if it passes something on: for the give-back of its undelivered
    /// reply to pass that on, once.
    closed_grant: Option<(ConnectionId, Grant)>,
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
            closed_grant: None,
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
                    grant: None,
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
        if let Some(grant) = &mut holder.grant {
            // A release uses up the grant's holds first (see the module
            // docs).
            grant.holds = grant.holds.min(holder.count);
        }
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

    /// Gives back the grant of request `request` of `connection`, if the
    /// holder holds the lock through it still (the lock has not changed
    /// hands since; see [`Pending::restores`]): up to `holds` of the holds
    /// it restored, never more than the holder's count. Returns how many,
    /// and whether the grant passes something on ([`Pending::passes_on`]);
    /// `None` if the holder does not hold the lock through that grant. A
    /// lock left with none is released but not handed on yet: see
    /// [`OwnedLock::hand_over`]. The grant of a holder whose connection
    /// has closed since, if it passes something on, is given back once
    /// more, with no holds (its close released them), for the give-back
    /// of its undelivered reply to pass that on.
    pub(crate) fn give_back_grant(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        holds: u64,
    ) -> Option<(u64, bool)> {
        if let Some((closed, grant)) = self.closed_grant
            && closed == connection
            && grant.request == request
        {
            // Its connection's close released the holds already.
            self.closed_grant = None;
            return Some((0, grant.passes_on));
        }
        let holder = self
            .holder
            .as_mut()
            .filter(|h| h.connection == connection)?;
        let grant = holder.grant.filter(|g| g.request == request)?;
        let given = holds.min(grant.holds).min(holder.count);
        holder.count -= given;
        holder.grant = None;
        if holder.count == 0 {
            self.holder = None;
        }
        Some((given, grant.passes_on))
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
            let request = waiter.caller.id;
            self.holder = Some(Holder {
                connection: waiter.caller.connection,
                owner,
                count,
                grant: pending.restores().then_some(Grant {
                    request,
                    holds: count,
                    passes_on: pending.passes_on(),
                }),
            });
            waiter.caller.reply(Ok(pending.answer(count, request)));
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
        if let Some(holder) = self.holder.filter(|h| h.connection == connection) {
            tracing::debug!(
                object = %ctx.what(),
                %connection,
                "holder's connection closed; lock released"
            );
            self.holder = None;
            // What a grant it held the lock through passes on is passed on
            // by the give-back of its reply, if that was not delivered.
            if let Some(grant) = holder.grant.filter(|g| g.passes_on) {
                self.closed_grant = Some((connection, grant));
            }
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

//! [`QueueState`]: a FIFO queue, optionally bounded, like Python's
//! `Manager().Queue()`; with `joinable` set, also `task_done` and `join`,
//! like `Manager().JoinableQueue()`.
//!
//! # Waiting
//!
//! A `get` on an empty queue and a `put` on a full one are parked in the
//! state, never blocking the actor, and served in arrival order: the
//! longest-waiting getter takes the next item, the longest-waiting putter
//! gets the next free place. A `put` while a getter waits hands the item
//! straight to that getter. A wait that ends first fails with
//! [`ManagerError::Empty`] (getter) or [`ManagerError::Full`] (putter); a
//! `join` that ends first answers `false`.
//!
//! # Types
//!
//! A typed get ([`QueueRequest::GetAs`]) names the type its caller will
//! decode the item as, and the queue checks the front item's tag before
//! taking it. An item of another type is never taken by such a get: it
//! stays at the front and the get fails at once with
//! [`ManagerError::WrongType`]. The same holds for a parked getter that a
//! put would hand an item to: on a mismatch that getter is answered
//! `WrongType` (it does not stay parked: a queue holding an item it cannot
//! read would otherwise keep it waiting for ever) and the item goes to the
//! next parked getter, or into the queue. A consumer built with the wrong
//! type therefore fails loudly and destroys nothing; a consumer of the
//! right type then takes the item.
//!
//! # Acknowledged gets
//!
//! A [`QueueRequest::Receive`] takes an item as a get does but keeps it *in
//! flight* for the receiving connection under a receipt, until that
//! connection sends [`QueueRequest::Ack`] (or gives it back with
//! [`QueueRequest::Requeue`]). If the connection closes first, however its
//! process ended (before the reply was read, after, in the middle of the
//! work), its unacknowledged items return to the front of the queue in the
//! order they were taken, as [`QueueRequest::Return`] does: not new tasks
//! for `join`, not refused by the bound. The queue's length does not count
//! items in flight, but its bound does: a bounded queue holds at most
//! `maxsize` items, queued or in flight, so a put waits while consumers
//! hold receipts, and an acknowledgement makes room.
//!
//! # Backpressure
//!
//! With a `maxsize`, at most that many items are held; further puts wait
//! (holding their item, which has not entered the queue) until a `get` makes
//! room. A `maxsize` of 0 means unbounded, as in Python.
//!
//! A client's [`QueueRequest::Return`] (of an item whose get it gave up on)
//! waits for room the same way, then goes to the front; a
//! [`QueueRequest::ReturnMany`] waits for room for all its items, so they
//! enter together (or, once the queue holds nothing else, its first items
//! as far as there is room, in order), and puts wait behind it. A
//! connection may return only as many items as plain gets handed it and it
//! has not given back; any other return is refused.
//! If the connection closes while a return waits, or a return finds its
//! connection with no parked place left, the items go to the front past
//! the bound at once (they had left the queue for a get whose caller never
//! had them; the client sent them without waiting for an answer, so a
//! refusal would lose them), as the manager's own give-backs and a dead
//! consumer's unacknowledged items do. So a bounded queue holds more than
//! `maxsize` only by items gets took from it.
//!
//! # What happens when a worker dies
//!
//! Its parked getters, putters and joiners are dropped when its connection
//! closes. An item is never handed to a getter whose connection is known to
//! be gone while a live one waits: such getters are skipped. A dead putter's
//! item never entered the queue and is dropped with it. Items already taken
//! by a worker that dies before `task_done` stay unfinished, so a `join`
//! waits for them (as in Python).
//!
//! # Removal
//!
//! Every parked request is answered with [`ManagerError::ObjectGone`].

use std::collections::{BTreeMap, HashMap, VecDeque};

use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::{QueueRequest, RequestId, Wait};
use manager_core::{Encoded, ManagerError, TypeTag};

use super::list::check_type;
use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::{WaiterId, Waiters};

/// A parked get.
#[derive(Debug)]
struct Getter {
    /// The type it expects (`None`: any).
    expect: Option<TypeTag>,
    /// Whether it takes the item with a receipt (`Receive`).
    receipt: bool,
    /// For a `GetMany`: the most items it takes, answered as `Values`.
    many: Option<u64>,
}

/// An item received with a receipt, until acknowledged.
#[derive(Debug)]
struct InFlight {
    connection: ConnectionId,
    value: Encoded,
}

/// The state of one queue or joinable queue.
#[derive(Debug, Default)]
pub struct QueueState {
    /// The items, front first.
    items: VecDeque<Encoded>,
    /// The most items held; `None` for unbounded.
    maxsize: Option<u64>,
    /// Whether `task_done` and `join` are allowed.
    joinable: bool,
    /// Items that entered the queue (or went straight to a getter) and have
    /// not been marked done.
    unfinished: u64,
    /// Gets waiting for an item.
    getters: Waiters<Getter>,
    /// Items received with a receipt and not yet acknowledged, by receipt
    /// (so in the order they were taken).
    in_flight: BTreeMap<u64, InFlight>,
    /// The receipt the next received item gets.
    next_receipt: u64,
    /// Puts (and clients' returns) waiting for room, each with its item.
    putters: Waiters<Put>,
    /// Joins waiting for `unfinished` to reach 0.
    joiners: Waiters<()>,
    /// Per connection, the items plain gets handed it and it has not given
    /// back: what it may still return ([`QueueRequest::Return`]).
    returnable: HashMap<ConnectionId, u64>,
}

/// A put waiting for room: its item, and whether it is a client's return
/// that goes to the front ([`QueueRequest::Return`]).
#[derive(Debug)]
struct Put {
    items: PutItems,
    front: bool,
}

/// What a waiting put holds.
#[derive(Debug)]
enum PutItems {
    /// One item, answered `Done` once it enters.
    One(Encoded),
    /// A `PutMany`'s items that have not entered yet, front first, and how
    /// many of its items have: answered `Count(entered)` once the rest is
    /// empty or its wait ends.
    Many {
        rest: VecDeque<Encoded>,
        entered: u64,
    },
}

impl PutItems {
    fn values(&self) -> impl Iterator<Item = &Encoded> {
        let (one, many) = match self {
            PutItems::One(value) => (Some(value), None),
            PutItems::Many { rest, .. } => (None, Some(rest.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// Bytes a `GetMany` reply may hold below the connection's reply limit,
/// for the reply's own framing.
const REPLY_MARGIN: usize = 1024;

/// What one item adds to a reply beyond its bytes and type name (length
/// prefixes), at most.
const ITEM_OVERHEAD: usize = 20;

impl QueueState {
    /// Requests parked on it: getters, putters and joiners.
    fn n_waiting(&self) -> u64 {
        (self.getters.len() + self.putters.len() + self.joiners.len()) as u64
    }

    /// An empty queue holding at most `maxsize` items (`None` or `Some(0)`:
    /// unbounded); `joinable` allows `task_done` and `join`.
    pub fn new(maxsize: Option<u64>, joinable: bool) -> Self {
        QueueState {
            maxsize: maxsize.filter(|&m| m > 0),
            joinable,
            ..Self::default()
        }
    }

    /// Whether a put may enter: items in flight count toward the bound, so
    /// a bounded queue holds at most `maxsize` items, queued or received
    /// and not yet acknowledged.
    fn has_room(&self) -> bool {
        self.maxsize
            .is_none_or(|m| ((self.items.len() + self.in_flight.len()) as u64) < m)
    }

    fn is_full(&self) -> bool {
        !self.has_room()
    }

    /// How many items may enter now.
    fn room(&self) -> usize {
        match self.maxsize {
            None => usize::MAX,
            Some(m) => {
                let held = (self.items.len() + self.in_flight.len()) as u64;
                usize::try_from(m.saturating_sub(held)).unwrap_or(usize::MAX)
            }
        }
    }

    /// Takes up to `max` items of type `expect` (any, if `None`) from the
    /// front for a
    /// `GetMany` of `connection`, at most `budget` bytes of them (but
    /// always the first): what it may give back. Fails, taking nothing, if
    /// the front item is of another type; stops before a later one.
    fn take_many(
        &mut self,
        max: u64,
        expect: Option<&TypeTag>,
        budget: usize,
        connection: ConnectionId,
        what: impl Fn() -> String,
    ) -> Result<Vec<Encoded>, ManagerError> {
        let mut taken = Vec::new();
        let mut bytes = 0_usize;
        while let Some(front) = self.items.front() {
            if taken.len() as u64 >= max {
                break;
            }
            let size = front.heap_size() + ITEM_OVERHEAD;
            if !taken.is_empty() && bytes.saturating_add(size) > budget {
                break;
            }
            if let Err(e) = check_type(front, expect, &what) {
                if taken.is_empty() {
                    return Err(e);
                }
                break;
            }
            bytes += size;
            taken.push(self.items.pop_front().expect("checked non-empty"));
        }
        *self.returnable.entry(connection).or_default() += taken.len() as u64;
        Ok(taken)
    }

    /// Moves items to waiting getters and waiting putters' items into the
    /// queue for as long as either can proceed. Afterwards, a non-empty queue
    /// has no getter parked, and a queue with room has no putter parked.
    ///
    /// A getter that expects another type than the front item's is answered
    /// `WrongType` and leaves; the item stays for the next getter.
    fn settle(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        loop {
            let mut moved = false;
            while let Some(front) = self.items.front() {
                let Some(getter) = self.getters.pop_front(ctx) else {
                    break;
                };
                if let Some(max) = getter.data.many {
                    let budget = getter
                        .caller
                        .replies
                        .max_reply()
                        .saturating_sub(REPLY_MARGIN);
                    let connection = getter.caller.connection;
                    let taken = self.take_many(
                        max,
                        getter.data.expect.as_ref(),
                        budget,
                        connection,
                        || ctx.what(),
                    );
                    moved |= taken.as_ref().is_ok_and(|t| !t.is_empty());
                    getter.caller.reply(taken.map(Reply::Values));
                    continue;
                }
                if let Err(e) = check_type(front, getter.data.expect.as_ref(), || ctx.what()) {
                    getter.caller.reply(Err(e));
                    continue;
                }
                let item = self.items.pop_front().expect("checked non-empty");
                let reply = self.hand_over(item, getter.data.receipt, getter.caller.connection);
                getter.caller.reply(Ok(reply));
                moved = true;
            }
            moved |= self.let_putters_in(ctx);
            if !moved {
                return;
            }
        }
    }

    /// Lets the items of waiting puts in, in arrival order, while there is
    /// room; a bulk put's items enter as room appears, and it is answered
    /// once all have. Whether any item entered.
    fn let_putters_in(&mut self, ctx: &mut ObjectContext<'_, Self>) -> bool {
        let mut moved = false;
        loop {
            let room = self.room();
            if room == 0 {
                return moved;
            }
            let Some(putter) = self.putters.front_mut() else {
                return moved;
            };
            let id = putter.id;
            if putter.caller.is_gone() {
                // A dead putter's items never entered and go with it. A
                // dead client's return goes in whole, past the bound, as it
                // does when its connection's close arrives: those items had
                // left the queue for a caller that never had them.
                let gone = self.putters.take(id, ctx).expect("at the front");
                if gone.data.front {
                    self.return_whole(gone.data.items);
                    moved = true;
                }
                continue;
            }
            let front = putter.data.front;
            match &mut putter.data.items {
                PutItems::Many { rest, .. }
                    if front && room < rest.len() && !self.items.is_empty() =>
                {
                    // A return waits to enter whole, so that no get takes
                    // its later items before its first. Once the queue
                    // holds nothing else, its first items enter as far as
                    // there is room (and the rest wait for it to be empty
                    // again), so that room held by items in flight, or a
                    // return larger than the bound, cannot hold it up for
                    // good; their order holds all the same.
                    return moved;
                }
                PutItems::Many { rest, entered } => {
                    let n = room.min(rest.len());
                    if front && n == rest.len() {
                        // A return, whole: the last items first, to the
                        // front, so they end in their order; not new tasks.
                        for _ in 0..n {
                            let value = rest.pop_back().expect("counted");
                            self.items.push_front(value);
                        }
                    } else if front {
                        // A return's first items, into a queue that holds
                        // nothing else (see above).
                        for value in rest.drain(..n) {
                            self.items.push_back(value);
                        }
                    } else {
                        for value in rest.drain(..n) {
                            self.items.push_back(value);
                        }
                        self.unfinished += n as u64;
                    }
                    *entered += n as u64;
                    moved |= n > 0;
                    if !rest.is_empty() {
                        return moved;
                    }
                    let entered = *entered;
                    let putter = self.putters.take(id, ctx).expect("at the front");
                    let reply = if front {
                        Reply::Done
                    } else {
                        Reply::Count(entered)
                    };
                    putter.caller.reply(Ok(reply));
                }
                PutItems::One(_) => {
                    let putter = self.putters.take(id, ctx).expect("at the front");
                    let Put { items, front } = putter.data;
                    let PutItems::One(value) = items else {
                        unreachable!("matched One")
                    };
                    if front {
                        // A returned item: back where it was, not a new task.
                        self.items.push_front(value);
                    } else {
                        self.items.push_back(value);
                        self.unfinished += 1;
                    }
                    putter.caller.reply(Ok(Reply::Done));
                    moved = true;
                }
            }
        }
    }

    /// Puts a return's items back at the front whole, in order, past the
    /// bound (its caller is gone). A return whose first items entered
    /// already (into a queue that held nothing else, which nothing has
    /// entered behind since: puts wait behind the return) puts the rest
    /// behind them.
    fn return_whole(&mut self, items: PutItems) {
        match items {
            PutItems::One(value) => self.items.push_front(value),
            PutItems::Many { rest, entered: 0 } => {
                for value in rest.into_iter().rev() {
                    self.items.push_front(value);
                }
            }
            PutItems::Many { rest, .. } => self.items.extend(rest),
        }
    }

    /// The reply that hands `item` to a get of `connection`: with a
    /// receipt, the item is kept in flight until acknowledged.
    fn hand_over(&mut self, item: Encoded, receipt: bool, connection: ConnectionId) -> Reply {
        if !receipt {
            *self.returnable.entry(connection).or_default() += 1;
            return Reply::Value(item);
        }
        let receipt = self.next_receipt;
        self.next_receipt += 1;
        self.in_flight.insert(
            receipt,
            InFlight {
                connection,
                value: item.clone(),
            },
        );
        Reply::Delivery {
            receipt,
            value: item,
        }
    }

    /// Checks that `connection` received the item in flight under
    /// `receipt`; only it may acknowledge or requeue it.
    fn check_received(
        &self,
        receipt: u64,
        connection: ConnectionId,
        ctx: &ObjectContext<'_, Self>,
    ) -> Result<(), ManagerError> {
        match self.in_flight.get(&receipt) {
            Some(held) if held.connection == connection => Ok(()),
            _ => Err(ManagerError::NotHeld {
                what: format!("receipt {receipt} of {}", ctx.what()),
            }),
        }
    }

    /// Takes the item in flight under `receipt` if `connection` received it.
    fn take_in_flight(
        &mut self,
        receipt: u64,
        connection: ConnectionId,
        ctx: &ObjectContext<'_, Self>,
    ) -> Result<Encoded, ManagerError> {
        self.check_received(receipt, connection, ctx)?;
        Ok(self.in_flight.remove(&receipt).expect("just checked").value)
    }

    /// Acknowledges the item in flight under `receipt` for `connection`;
    /// with `task_done`, also marks it done. A refused request changes
    /// nothing: the item stays in flight.
    fn ack(
        &mut self,
        receipt: u64,
        task_done: bool,
        connection: ConnectionId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> Result<Reply, ManagerError> {
        if task_done && !self.joinable {
            return Err(ctx.unsupported("task_done"));
        }
        self.check_received(receipt, connection, ctx)?;
        // Checked before the item leaves flight: task_done may refuse.
        let reply = if task_done {
            self.task_done(ctx)?
        } else {
            Reply::Done
        };
        self.in_flight.remove(&receipt);
        Ok(reply)
    }

    fn put(
        &mut self,
        value: Encoded,
        wait: Wait,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        // Room with a putter parked is room a return waits to fill whole:
        // this put must not overtake it.
        if self.putters.is_empty() && self.has_room() {
            self.items.push_back(value);
            self.unfinished += 1;
            caller.reply(Ok(Reply::Done));
            // Hands the item to the first live getter, if one waits.
            self.settle(ctx);
        } else if wait == Wait::No {
            caller.reply(Err(ManagerError::Full { what: ctx.what() }));
        } else {
            self.putters.park(
                caller,
                Put {
                    items: PutItems::One(value),
                    front: false,
                },
                wait,
                ctx,
            );
        }
    }

    /// A bulk put: what fits enters now; the rest waits for room, behind
    /// earlier waiting puts, as long as `wait` allows. One that must wait
    /// is parked whole before any of its items enters, so a refusal (the
    /// connection's parked cap) leaves the queue unchanged.
    fn put_many(
        &mut self,
        values: Vec<Encoded>,
        wait: Wait,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        // After `settle`, room means no putter is parked, so what enters
        // now overtakes none.
        let room = if self.putters.is_empty() {
            self.room()
        } else {
            0
        };
        if values.len() <= room && self.getters.is_empty() {
            // All of it enters, and nobody waits for an item: a large one
            // enters in slices, letting other objects run in between (the
            // queue takes no other request meanwhile, so no getter comes).
            let n = values.len() as u64;
            return ctx.in_slices(
                self,
                caller,
                values,
                |state, slice| {
                    state.unfinished += slice.len() as u64;
                    state.items.extend(slice);
                },
                move |_| Ok(Reply::Count(n)),
            );
        }
        if values.len() <= room || wait == Wait::No {
            let n = room.min(values.len());
            let mut values = values.into_iter();
            self.items.extend(values.by_ref().take(n));
            self.unfinished += n as u64;
            caller.reply(Ok(Reply::Count(n as u64)));
            let rest: Vec<Encoded> = values.collect();
            let len = rest.len();
            crate::discard::discard(rest, len);
            if n > 0 {
                // Hands items to waiting getters.
                self.settle(ctx);
            }
            return;
        }
        self.park_many(values, false, wait, caller, ctx);
    }

    /// Parks a bulk put (or, with `front`, a client's bulk return) whole;
    /// it enters as far as there is room, now and as room appears.
    fn park_many(
        &mut self,
        values: Vec<Encoded>,
        front: bool,
        wait: Wait,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        let put = Put {
            items: PutItems::Many {
                rest: VecDeque::from(values),
                entered: 0,
            },
            front,
        };
        if self.putters.park(caller, put, wait, ctx).is_some() {
            self.settle(ctx);
        }
    }

    /// A client's return of the items a `GetMany` took after it gave up:
    /// back at the front, in order, as room allows (the last first, so
    /// they end in their order). Only as many as gets handed this
    /// connection and it has not given back.
    fn give_back_many(
        &mut self,
        values: Vec<Encoded>,
        mut caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        let n = values.len() as u64;
        if !caller.is_internal() {
            match self.returnable.get_mut(&caller.connection) {
                Some(count) if *count >= n => *count -= n,
                _ => {
                    return caller.reply(Err(ManagerError::BadRequest(format!(
                        "{}: cannot return {n} items: fewer taken from it by this connection are out",
                        ctx.what()
                    ))));
                }
            }
        } else if let Some(count) = self.returnable.get_mut(&caller.connection) {
            *count = count.saturating_sub(n);
        }
        // The manager's own give-back always goes in whole: those items
        // left the queue a moment ago. A client's waits for room for all
        // of it as puts do (behind them), so no client can push a bounded
        // queue past its bound with returns; but if its connection has no
        // parked place left it goes in now, past the bound, rather than be
        // refused and lost, as in `give_back`.
        let fits = self.putters.is_empty() && self.room() >= values.len();
        if caller.is_internal() || fits || caller.hold_parked_slot().is_err() {
            for value in values.into_iter().rev() {
                self.items.push_front(value);
            }
            caller.reply(Ok(Reply::Done));
            self.settle(ctx);
            return;
        }
        self.park_many(values, true, Wait::Forever, caller, ctx);
    }

    /// A bulk get: up to `max` items of type `expect`, waiting for the
    /// first as long as `wait` allows; an empty answer if none came.
    fn get_many(
        &mut self,
        max: u64,
        expect: TypeTag,
        wait: Wait,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        let max = max.max(1);
        // After `settle`, an item means no getter is parked.
        if !self.items.is_empty() {
            let budget = caller.replies.max_reply().saturating_sub(REPLY_MARGIN);
            let taken =
                self.take_many(max, Some(&expect), budget, caller.connection, || ctx.what());
            let took = taken.as_ref().is_ok_and(|t| !t.is_empty());
            caller.reply(taken.map(Reply::Values));
            if took {
                // Lets the first live putters' items in.
                self.settle(ctx);
            }
        } else if wait == Wait::No {
            caller.reply(Ok(Reply::Values(Vec::new())));
        } else {
            self.getters.park(
                caller,
                Getter {
                    expect: Some(expect),
                    receipt: false,
                    many: Some(max),
                },
                wait,
                ctx,
            );
        }
    }

    /// An item given back to the front, where it was taken from; not a new
    /// task. The manager's own give-back (of a reply it could not deliver)
    /// always goes in: that item left the queue a moment ago. A client's
    /// waits for room like a put, so it cannot fill the queue past its
    /// bound: a bounded queue holds more than its bound only by what the
    /// manager gives back.
    fn give_back(&mut self, value: Encoded, mut caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        // Only what a get handed this connection may come back from it.
        let returnable = self.returnable.get_mut(&caller.connection);
        match returnable {
            Some(count) if *count > 0 => *count -= 1,
            _ if caller.is_internal() => {}
            _ => {
                caller.reply(Err(ManagerError::BadRequest(format!(
                    "{}: nothing to return: no item taken from it by this connection is out",
                    ctx.what()
                ))));
                return;
            }
        }
        // A return that must wait takes a parked place. If its connection
        // has none left it goes in now, past the bound, rather than be
        // refused: the client sent it without waiting for an answer, and
        // the item would be lost. So the queue goes past its bound only by
        // items that gets took from it.
        if caller.is_internal() || self.has_room() || caller.hold_parked_slot().is_err() {
            self.items.push_front(value);
            caller.reply(Ok(Reply::Done));
            self.settle(ctx);
        } else {
            self.putters.park(
                caller,
                Put {
                    items: PutItems::One(value),
                    front: true,
                },
                Wait::Forever,
                ctx,
            );
        }
    }

    /// A get; with `expect`, only an item of that type is taken; with
    /// `receipt`, it is kept in flight until acknowledged.
    fn get(
        &mut self,
        expect: Option<TypeTag>,
        receipt: bool,
        wait: Wait,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        // After `settle`, an item means no getter is parked, so this get
        // does not overtake one.
        if let Some(front) = self.items.front() {
            if let Err(e) = check_type(front, expect.as_ref(), || ctx.what()) {
                // The item stays at the front; nothing changed.
                return caller.reply(Err(e));
            }
            let item = self.items.pop_front().expect("checked non-empty");
            let reply = self.hand_over(item, receipt, caller.connection);
            caller.reply(Ok(reply));
            // Lets the first live putter's item in.
            self.settle(ctx);
        } else if wait == Wait::No {
            caller.reply(Err(ManagerError::Empty { what: ctx.what() }));
        } else {
            self.getters.park(
                caller,
                Getter {
                    expect,
                    receipt,
                    many: None,
                },
                wait,
                ctx,
            );
        }
    }

    fn task_done(&mut self, ctx: &mut ObjectContext<'_, Self>) -> Result<Reply, ManagerError> {
        if !self.joinable {
            return Err(ctx.unsupported("task_done"));
        }
        if self.unfinished == 0 {
            return Err(ManagerError::TooManyReleases {
                what: ctx.what(),
                detail: "task_done() called more times than items were put".to_owned(),
            });
        }
        self.unfinished -= 1;
        if self.unfinished == 0 {
            for joiner in self.joiners.drain(ctx) {
                joiner.caller.reply(Ok(Reply::Bool(true)));
            }
        }
        Ok(Reply::Done)
    }

    fn join(&mut self, wait: Wait, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        if !self.joinable {
            caller.reply(Err(ctx.unsupported("join")));
        } else if self.unfinished == 0 {
            caller.reply(Ok(Reply::Bool(true)));
        } else if wait == Wait::No {
            caller.reply(Ok(Reply::Bool(false)));
        } else {
            self.joiners.park(caller, (), wait, ctx);
        }
    }
}

/// The state of a new queue (`ObjectSpec::Queue`).
pub(super) fn queue(_: &super::Making<'_>, maxsize: Option<u64>) -> Result<QueueState, ManagerError> {
    Ok(QueueState::new(maxsize, false))
}

/// The state of a new joinable queue (`ObjectSpec::JoinableQueue`).
pub(super) fn joinable_queue(_: &super::Making<'_>, maxsize: Option<u64>) -> Result<QueueState, ManagerError> {
    Ok(QueueState::new(maxsize, true))
}

impl ObjectState for QueueState {
    type Request = QueueRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Queue {
                len: self.items.len() as u64,
                maxsize: self.maxsize,
                unfinished: self.joinable.then_some(self.unfinished),
                in_flight: self.in_flight.len() as u64,
            },
            waiters: self.n_waiting(),
            // Items parked with their putters are held too.
            bytes_held: super::bytes_held(&self.items)
                + super::bytes_held(self.putters.iter().flat_map(|w| w.data.items.values()))
                + super::bytes_held(self.in_flight.values().map(|held| &held.value)),
            holders: Vec::new(),
        }
    }

    fn handle(&mut self, request: QueueRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        match request {
            QueueRequest::NWaiting => caller.reply(Ok(Reply::Count(self.n_waiting()))),
            QueueRequest::Put { value, wait } => self.put(value, wait, caller, ctx),
            QueueRequest::Get { wait } => self.get(None, false, wait, caller, ctx),
            QueueRequest::GetAs { expect, wait } => {
                self.get(Some(expect), false, wait, caller, ctx);
            }
            QueueRequest::Receive { expect, wait } => self.get(expect, true, wait, caller, ctx),
            QueueRequest::Ack { receipt, task_done } => {
                let result = self.ack(receipt, task_done, caller.connection, ctx);
                caller.reply(result);
                // An item in flight no longer holds a place.
                self.settle(ctx);
            }
            QueueRequest::Requeue { receipt } => {
                match self.take_in_flight(receipt, caller.connection, ctx) {
                    Ok(value) => {
                        self.items.push_front(value);
                        caller.reply(Ok(Reply::Done));
                        self.settle(ctx);
                    }
                    Err(e) => caller.reply(Err(e)),
                }
            }
            QueueRequest::Len => caller.reply(Ok(Reply::Count(self.items.len() as u64))),
            QueueRequest::IsEmpty => caller.reply(Ok(Reply::Bool(self.items.is_empty()))),
            QueueRequest::IsFull => caller.reply(Ok(Reply::Bool(self.is_full()))),
            QueueRequest::TaskDone => {
                let result = self.task_done(ctx);
                caller.reply(result);
            }
            QueueRequest::Join { wait } => self.join(wait, caller, ctx),
            QueueRequest::Return { value } => self.give_back(value, caller, ctx),
            QueueRequest::PutMany { values, wait } => self.put_many(values, wait, caller, ctx),
            QueueRequest::GetMany { max, expect, wait } => {
                self.get_many(max, expect, wait, caller, ctx);
            }
            QueueRequest::ReturnMany { values } => self.give_back_many(values, caller, ctx),
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(getter) = self.getters.take(waiter, ctx) {
            let reply = match getter.data.many {
                // A bulk get that found nothing answers an empty list.
                Some(_) => Ok(Reply::Values(Vec::new())),
                None => Err(ManagerError::Empty { what: ctx.what() }),
            };
            getter.caller.reply(reply);
        } else if let Some(putter) = self.putters.take(waiter, ctx) {
            // Its item never entered the queue; a bulk put's first items
            // may have, and it says how many.
            let reply = match putter.data.items {
                PutItems::One(_) => Err(ManagerError::Full { what: ctx.what() }),
                PutItems::Many { entered, .. } => Ok(Reply::Count(entered)),
            };
            putter.caller.reply(reply);
        } else if let Some(joiner) = self.joiners.take(waiter, ctx) {
            joiner.caller.reply(Ok(Reply::Bool(false)));
        }
    }

    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        // A put's item never entered the queue; a get took nothing yet. A
        // return waiting for room is not taken back: its item has nowhere
        // else to go.
        let a_return = self
            .putters
            .get_request(connection, request)
            .is_some_and(|put| put.data.front);
        self.getters.cancel(connection, request, ctx)
            || (!a_return && self.putters.cancel(connection, request, ctx))
            || self.joiners.cancel(connection, request, ctx)
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        // Nobody is left to answer; a dead putter's item is dropped with it.
        // The item of a return waiting for room goes back to the front,
        // past the bound, as an unacknowledged one does below: it had left
        // the queue for a get whose caller never had it.
        self.getters.drop_connection(connection, ctx);
        let putters = self.putters.remove_connection(connection, ctx);
        let (returns, puts): (Vec<_>, Vec<_>) = putters.into_iter().partition(|put| put.data.front);
        for put in returns.into_iter().rev() {
            self.return_whole(put.data.items);
        }
        let len = puts.len();
        crate::discard::discard(puts, len);
        self.joiners.drop_connection(connection, ctx);
        self.returnable.remove(&connection);
        // What it received and never acknowledged goes back to the front,
        // in the order it was taken: not new tasks, not refused by the
        // bound.
        let unacknowledged: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, held)| held.connection == connection)
            .map(|(&receipt, _)| receipt)
            .collect();
        if !unacknowledged.is_empty() {
            tracing::debug!(
                queue = %ctx.what(),
                %connection,
                items = unacknowledged.len(),
                "connection closed; its unacknowledged items go back"
            );
        }
        for receipt in unacknowledged.into_iter().rev() {
            if let Some(held) = self.in_flight.remove(&receipt) {
                self.items.push_front(held.value);
            }
        }
        self.settle(ctx);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        for getter in self.getters.drain(ctx) {
            getter.caller.reply(Err(ctx.gone()));
        }
        for putter in self.putters.drain(ctx) {
            putter.caller.reply(Err(ctx.gone()));
        }
        for joiner in self.joiners.drain(ctx) {
            joiner.caller.reply(Err(ctx.gone()));
        }
        let items = std::mem::take(&mut self.items);
        let len = items.len();
        crate::discard::discard(items, len);
    }
}

#[cfg(test)]
mod tests;

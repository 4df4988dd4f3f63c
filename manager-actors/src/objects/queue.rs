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
//! waits for room the same way, then goes to the front. A connection may
//! return only as many items as plain gets handed it and it has not given
//! back; any other return is refused. If the connection closes while a
//! return waits, the item goes to the front past the bound (it had left the
//! queue for a get whose caller never had it), as the manager's own
//! give-backs and a dead consumer's unacknowledged items do. So a bounded
//! queue holds more than `maxsize` only by items that were in it before.
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
    value: Encoded,
    front: bool,
}

impl QueueState {
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
                if let Err(e) = check_type(front, getter.data.expect.as_ref(), || ctx.what()) {
                    getter.caller.reply(Err(e));
                    continue;
                }
                let item = self.items.pop_front().expect("checked non-empty");
                let reply = self.hand_over(item, getter.data.receipt, getter.caller.connection);
                getter.caller.reply(Ok(reply));
                moved = true;
            }
            while self.has_room() && !self.putters.is_empty() {
                let Some(putter) = self.putters.pop_front(ctx) else {
                    break;
                };
                let Put { value, front } = putter.data;
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
            if !moved {
                return;
            }
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
        // After `settle`, room means no putter is parked, so this put does
        // not overtake one.
        if self.has_room() {
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
                    value,
                    front: false,
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
    fn give_back(&mut self, value: Encoded, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
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
        if caller.is_internal() || self.has_room() {
            self.items.push_front(value);
            caller.reply(Ok(Reply::Done));
            self.settle(ctx);
        } else {
            self.putters
                .park(caller, Put { value, front: true }, Wait::Forever, ctx);
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
            self.getters
                .park(caller, Getter { expect, receipt }, wait, ctx);
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
            waiters: (self.getters.len() + self.putters.len() + self.joiners.len()) as u64,
            // Items parked with their putters are held too.
            bytes_held: super::bytes_held(&self.items)
                + super::bytes_held(self.putters.iter().map(|w| &w.data.value))
                + super::bytes_held(self.in_flight.values().map(|held| &held.value)),
            holders: Vec::new(),
        }
    }

    fn handle(&mut self, request: QueueRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        match request {
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
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(getter) = self.getters.take(waiter, ctx) {
            getter
                .caller
                .reply(Err(ManagerError::Empty { what: ctx.what() }));
        } else if let Some(putter) = self.putters.take(waiter, ctx) {
            // Its item never entered the queue.
            putter
                .caller
                .reply(Err(ManagerError::Full { what: ctx.what() }));
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
            self.items.push_front(put.data.value);
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
mod tests {
    use std::time::Duration;

    use manager_core::reply::Reply;
    use manager_core::request::{NamespaceRequest, ObjectRequest, QueueRequest, Wait};
    use manager_core::{Encoded, ManagerError, ObjectSpec, TypeTag};

    use manager_core::inspect::KindDetail;

    use crate::object::ObjectHandle;
    use crate::objects::testing::{Conn, Harness};

    fn v(n: i64) -> Encoded {
        Encoded::encode(&n).unwrap()
    }

    fn put(n: i64, wait: Wait) -> ObjectRequest {
        ObjectRequest::Queue(QueueRequest::Put { value: v(n), wait })
    }

    fn get(wait: Wait) -> ObjectRequest {
        ObjectRequest::Queue(QueueRequest::Get { wait })
    }

    fn get_as<T>(wait: Wait) -> ObjectRequest {
        ObjectRequest::Queue(QueueRequest::GetAs {
            expect: TypeTag::of::<T>(),
            wait,
        })
    }

    fn wrong_type<T>() -> ManagerError {
        ManagerError::WrongType {
            what: "queue `t`".into(),
            stored: "i64".into(),
            requested: TypeTag::of::<T>().as_str().to_owned(),
        }
    }

    fn q(request: QueueRequest) -> ObjectRequest {
        ObjectRequest::Queue(request)
    }

    async fn bounded(maxsize: u64) -> (Harness, ObjectHandle) {
        Harness::start(ObjectSpec::Queue {
            maxsize: Some(maxsize),
        })
        .await
    }

    async fn joinable() -> (Harness, ObjectHandle) {
        Harness::start(ObjectSpec::JoinableQueue { maxsize: None }).await
    }

    const SHORT: Wait = Wait::For(Duration::from_millis(30));

    #[actix::test]
    async fn fifo_len_empty_full() {
        let (_h, t) = bounded(2).await;
        let mut a = Conn::new(1);
        assert_eq!(
            a.call(&t, q(QueueRequest::IsEmpty)).await,
            Ok(Reply::Bool(true))
        );
        assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(2)));
        assert_eq!(
            a.call(&t, q(QueueRequest::IsFull)).await,
            Ok(Reply::Bool(true))
        );
        assert_eq!(
            a.call(&t, put(3, Wait::No)).await,
            Err(ManagerError::Full {
                what: "queue `t`".into()
            })
        );
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
        assert_eq!(
            a.call(&t, get(Wait::No)).await,
            Err(ManagerError::Empty {
                what: "queue `t`".into()
            })
        );
    }

    #[actix::test]
    async fn a_returned_item_goes_to_the_front_or_to_a_parked_getter() {
        let (_h, t) = joinable().await;
        let mut a = Conn::new(1);
        let ret = |n| q(QueueRequest::Return { value: v(n) });
        assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
        // Taken, then given back: to the front, before 2.
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert_eq!(a.call(&t, ret(1)).await, Ok(Reply::Done));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
        // A parked getter takes a returned item at once.
        let mut b = Conn::new(2);
        let gb = b.send(&t, get(Wait::Forever)).await;
        b.nothing();
        assert_eq!(a.call(&t, ret(2)).await, Ok(Reply::Done));
        assert_eq!(b.now(gb), Ok(Reply::Value(v(2))));
        // Two puts, two tasks: a return is not a new one.
        for _ in 0..2 {
            assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
        }
        assert_eq!(
            a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
            Ok(Reply::Bool(true))
        );
    }

    #[actix::test]
    async fn a_client_returns_only_what_it_took() {
        let (_h, t) = bounded(4).await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        let ret = |n| q(QueueRequest::Return { value: v(n) });
        // Nothing taken: nothing to return.
        let refused = a.call(&t, ret(9)).await;
        assert!(
            matches!(&refused, Err(ManagerError::BadRequest(why)) if why.contains("nothing to return")),
            "{refused:?}"
        );
        assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        // What a took is a's to return, once.
        assert!(b.call(&t, ret(1)).await.is_err());
        assert_eq!(a.call(&t, ret(1)).await, Ok(Reply::Done));
        assert!(a.call(&t, ret(1)).await.is_err());
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
    }

    #[actix::test]
    async fn a_client_s_return_waits_for_room_in_a_bounded_queue() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        let ret = |n| q(QueueRequest::Return { value: v(n) });
        // a takes 0, and the queue fills again with 1.
        assert_eq!(a.call(&t, put(0, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(0))));
        assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
        // Full: the return waits rather than pass the bound, and a cancel
        // does not take it back (its item has nowhere else to go).
        let parked = a.send(&t, ret(0)).await;
        a.nothing();
        assert_eq!(
            a.call(&t, ObjectRequest::Cancel { request: parked }).await,
            Ok(Reply::Bool(false))
        );
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
        // A get makes room; the returned item goes to the front.
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert_eq!(a.now(parked), Ok(Reply::Done));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(0))));
        // However many a client sends, the queue holds at most its bound
        // while it lives; returns beyond what it took are refused.
        assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
        let mut sent = Vec::new();
        for n in 10..20 {
            sent.push(a.send(&t, ret(n)).await);
        }
        // a took two it has not given back: two wait, the rest are refused.
        for &id in &sent[2..] {
            assert!(matches!(a.now(id), Err(ManagerError::BadRequest(_))));
        }
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
        // When it closes, the returns it had waiting go back to the front
        // past the bound (they were items it took), the others were refused.
        a.close(&[&t]).await;
        let mut b = Conn::new(2);
        assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(3)));
    }

    #[actix::test]
    async fn a_cancelled_get_leaves_and_takes_nothing() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        let cancel = |request| ObjectRequest::Cancel { request };
        let abandoned = a.send(&t, get(Wait::Forever)).await;
        // Ids are per connection: b's get has another id than a's.
        assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
        let waiting = b.send(&t, get(Wait::Forever)).await;
        assert_ne!(waiting, abandoned);
        a.nothing();
        // Another connection cannot take it back; its owner can, once.
        assert_eq!(b.call(&t, cancel(abandoned)).await, Ok(Reply::Bool(false)));
        let taken_back = a.send(&t, cancel(abandoned)).await;
        assert_eq!(a.now(abandoned), Err(ManagerError::Cancelled));
        assert_eq!(a.now(taken_back), Ok(Reply::Bool(true)));
        assert_eq!(a.call(&t, cancel(abandoned)).await, Ok(Reply::Bool(false)));
        // The next item goes to the getter still waiting.
        assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(b.now(waiting), Ok(Reply::Value(v(1))));
        // A parked put leaves without its item entering.
        assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
        let put_back = a.send(&t, put(3, Wait::Forever)).await;
        let taken_back = a.send(&t, cancel(put_back)).await;
        assert_eq!(a.now(put_back), Err(ManagerError::Cancelled));
        assert_eq!(a.now(taken_back), Ok(Reply::Bool(true)));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
    }

    #[actix::test]
    async fn zero_maxsize_is_unbounded() {
        let (_h, t) = bounded(0).await;
        let mut a = Conn::new(1);
        for n in 0..100 {
            assert_eq!(a.call(&t, put(n, Wait::No)).await, Ok(Reply::Done));
        }
        assert_eq!(
            a.call(&t, q(QueueRequest::IsFull)).await,
            Ok(Reply::Bool(false))
        );
    }

    #[actix::test]
    async fn getters_are_served_in_arrival_order() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        let ga = a.send(&t, get(Wait::Forever)).await;
        let gb = b.send(&t, get(Wait::Forever)).await;
        a.nothing();
        b.nothing();
        // Straight to the first getter: the queue never holds it.
        assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.now(ga), Ok(Reply::Value(v(1))));
        b.nothing();
        assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(b.now(gb), Ok(Reply::Value(v(2))));
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
    }

    #[actix::test]
    async fn parked_putters_enter_in_order_as_room_appears() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        a.call(&t, put(1, Wait::No)).await.unwrap();
        let pa = a.send(&t, put(2, Wait::Forever)).await;
        let pb = b.send(&t, put(3, Wait::Forever)).await;
        a.nothing();
        b.nothing();
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert_eq!(a.now(pa), Ok(Reply::Done));
        b.nothing();
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
        assert_eq!(b.now(pb), Ok(Reply::Done));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(3))));
    }

    #[actix::test]
    async fn waits_that_end_fail_with_empty_and_full() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        let g = a.send(&t, get(SHORT)).await;
        assert!(matches!(a.later(g).await, Err(ManagerError::Empty { .. })));
        a.call(&t, put(1, Wait::No)).await.unwrap();
        let p = a.send(&t, put(2, SHORT)).await;
        assert!(matches!(a.later(p).await, Err(ManagerError::Full { .. })));
        // The timed-out put's item never entered.
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert!(a.call(&t, get(Wait::No)).await.is_err());
    }

    fn receive(wait: Wait) -> ObjectRequest {
        q(QueueRequest::Receive { expect: None, wait })
    }

    fn receipt_of(reply: Result<Reply, ManagerError>, item: i64) -> u64 {
        match reply {
            Ok(Reply::Delivery { receipt, value }) if value == v(item) => receipt,
            other => panic!("expected a delivery of {item}, got {other:?}"),
        }
    }

    #[actix::test]
    async fn a_reply_never_read_gives_its_item_back() {
        let (_h, t) = joinable().await;
        let mut live = Conn::new(1);
        let mut dead = Conn::new(2);
        assert_eq!(live.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
        // Answered at once, but the connection goes before its writer
        // delivers the reply: the item comes back to the front.
        let _ = dead.send(&t, get(Wait::No)).await;
        // Dropping its reply queue gives back what the queued reply took;
        // the give-back reaches the mailbox before the live get.
        drop(dead);
        assert_eq!(live.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        // Not a new task: one task_done finishes the queue's work.
        assert_eq!(
            live.call(&t, q(QueueRequest::TaskDone)).await,
            Ok(Reply::Done)
        );
        assert_eq!(
            live.call(&t, q(QueueRequest::Join { wait: Wait::No }))
                .await,
            Ok(Reply::Bool(true))
        );
    }

    #[actix::test]
    async fn a_reply_over_the_limit_is_refused_and_its_item_given_back() {
        let (_h, t) = joinable().await;
        let mut live = Conn::new(1);
        let mut small = Conn::with_max_reply(2, 16);
        let big = ObjectRequest::Queue(QueueRequest::Put {
            value: Encoded::encode(&vec![9_u8; 100]).unwrap(),
            wait: Wait::No,
        });
        assert_eq!(live.call(&t, big).await, Ok(Reply::Done));
        let refused = small.call(&t, get(Wait::No)).await;
        assert!(
            matches!(refused, Err(ManagerError::ReplyTooLarge { max: 16, .. })),
            "{refused:?}"
        );
        // The item went back to the front, not as a new task.
        let Ok(Reply::Value(item)) = live.call(&t, get(Wait::No)).await else {
            panic!("the item was lost");
        };
        assert_eq!(item.decode::<Vec<u8>>("item").unwrap().len(), 100);
        assert_eq!(
            live.call(&t, q(QueueRequest::TaskDone)).await,
            Ok(Reply::Done)
        );
        assert_eq!(
            live.call(&t, q(QueueRequest::Join { wait: Wait::No }))
                .await,
            Ok(Reply::Bool(true))
        );
    }

    #[actix::test]
    async fn received_items_go_back_in_order_when_their_connection_closes() {
        let (h, t) = joinable().await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        for n in 1..=3 {
            assert_eq!(a.call(&t, put(n, Wait::No)).await, Ok(Reply::Done));
        }
        let r1 = receipt_of(a.call(&t, receive(Wait::No)).await, 1);
        let r2 = receipt_of(a.call(&t, receive(Wait::No)).await, 2);
        assert_ne!(r1, r2);
        let r3 = receipt_of(b.call(&t, receive(Wait::No)).await, 3);
        // In flight: not in the queue, and shown by inspection.
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
        let report = h.inspect().await.remove(0);
        assert!(matches!(
            report.detail.map(|d| d.size),
            Some(KindDetail::Queue {
                len: 0,
                in_flight: 3,
                ..
            })
        ));
        // Only the receiver acknowledges or requeues.
        for op in [
            QueueRequest::Ack {
                receipt: r3,
                task_done: false,
            },
            QueueRequest::Requeue { receipt: r3 },
        ] {
            assert!(matches!(
                a.call(&t, q(op)).await,
                Err(ManagerError::NotHeld { .. })
            ));
        }
        assert_eq!(
            b.call(
                &t,
                q(QueueRequest::Ack {
                    receipt: r3,
                    task_done: true
                })
            )
            .await,
            Ok(Reply::Done)
        );
        // Acknowledged once: a second ack finds nothing.
        assert!(matches!(
            b.call(
                &t,
                q(QueueRequest::Ack {
                    receipt: r3,
                    task_done: true
                })
            )
            .await,
            Err(ManagerError::NotHeld { .. })
        ));
        a.close(&[&t]).await;
        // Back at the front in the order taken.
        assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
        // Three puts, three tasks.
        for _ in 0..2 {
            assert_eq!(b.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
        }
        assert_eq!(
            b.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
            Ok(Reply::Bool(true))
        );
    }

    #[actix::test]
    async fn a_requeued_item_goes_to_a_parked_getter() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        assert_eq!(a.call(&t, put(5, Wait::No)).await, Ok(Reply::Done));
        let r = receipt_of(a.call(&t, receive(Wait::No)).await, 5);
        let g = b.send(&t, receive(Wait::Forever)).await;
        b.nothing();
        assert_eq!(
            a.call(&t, q(QueueRequest::Requeue { receipt: r })).await,
            Ok(Reply::Done)
        );
        receipt_of(b.now(g), 5);
    }

    #[actix::test]
    async fn dead_getter_is_skipped_and_dead_putter_dropped() {
        let (_h, t) = bounded(1).await;
        let mut live = Conn::new(1);
        let mut dead = Conn::new(2);
        let _ = dead.send(&t, get(Wait::Forever)).await;
        let g = live.send(&t, get(Wait::Forever)).await;
        // The dead connection's sink closes before the manager hears of it.
        drop(dead);
        assert_eq!(live.call(&t, put(7, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(live.now(g), Ok(Reply::Value(v(7))));

        let mut dead = Conn::new(3);
        live.call(&t, put(1, Wait::No)).await.unwrap();
        let _ = dead.send(&t, put(2, Wait::Forever)).await;
        dead.close(&[&t]).await;
        assert_eq!(live.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
        assert!(matches!(
            live.call(&t, get(Wait::No)).await,
            Err(ManagerError::Empty { .. })
        ));
    }

    #[actix::test]
    async fn a_wrong_typed_get_leaves_the_item_at_the_front() {
        let (_h, t) = bounded(2).await;
        let mut a = Conn::new(1);
        a.call(&t, put(1, Wait::No)).await.unwrap();
        a.call(&t, put(2, Wait::No)).await.unwrap();
        // Refused at once, whatever the wait: the queue is not empty.
        for wait in [Wait::No, SHORT, Wait::Forever] {
            assert_eq!(
                a.call(&t, get_as::<String>(wait)).await,
                Err(wrong_type::<String>())
            );
        }
        assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(2)));
        // A get of the right type then takes it, in order.
        assert_eq!(
            a.call(&t, get_as::<i64>(Wait::No)).await,
            Ok(Reply::Value(v(1)))
        );
        assert_eq!(
            a.call(&t, get_as::<i64>(Wait::No)).await,
            Ok(Reply::Value(v(2)))
        );
    }

    #[actix::test]
    async fn a_parked_getter_of_another_type_is_refused_and_the_item_goes_on() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        let ga = a.send(&t, get_as::<String>(Wait::Forever)).await;
        let gb = b.send(&t, get_as::<i64>(Wait::Forever)).await;
        a.nothing();
        b.nothing();
        // The first getter expects a `String`: it is answered `WrongType`,
        // and the item goes to the next getter.
        assert_eq!(a.call(&t, put(7, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.now(ga), Err(wrong_type::<String>()));
        assert_eq!(b.now(gb), Ok(Reply::Value(v(7))));

        // With no getter of the right type parked, the item enters the
        // queue and waits there for one.
        let ga = a.send(&t, get_as::<String>(Wait::Forever)).await;
        assert_eq!(b.call(&t, put(8, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(a.now(ga), Err(wrong_type::<String>()));
        assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
        assert_eq!(
            b.call(&t, get_as::<i64>(Wait::No)).await,
            Ok(Reply::Value(v(8)))
        );
    }

    #[actix::test]
    async fn a_refused_getter_does_not_stop_a_putter_from_entering() {
        let (_h, t) = Harness::start(ObjectSpec::JoinableQueue { maxsize: Some(1) }).await;
        let mut a = Conn::new(1);
        a.call(&t, put(1, Wait::No)).await.unwrap();
        let p = a.send(&t, put(2, Wait::Forever)).await;
        assert!(matches!(
            a.call(&t, get_as::<bool>(Wait::No)).await,
            Err(ManagerError::WrongType { what, .. }) if what == "joinable queue `t`"
        ));
        // Still full, the putter still parked; nothing was marked taken.
        a.nothing();
        assert_eq!(
            a.call(&t, get_as::<i64>(Wait::No)).await,
            Ok(Reply::Value(v(1)))
        );
        assert_eq!(a.now(p), Ok(Reply::Done));
        assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
        for _ in 0..2 {
            a.call(&t, q(QueueRequest::TaskDone)).await.unwrap();
        }
        assert_eq!(
            a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
            Ok(Reply::Bool(true))
        );
    }

    #[actix::test]
    async fn join_waits_for_every_task_done() {
        let (_h, t) = joinable().await;
        let mut a = Conn::new(1);
        assert_eq!(
            a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
            Ok(Reply::Bool(true))
        );
        a.call(&t, put(1, Wait::No)).await.unwrap();
        a.call(&t, put(2, Wait::No)).await.unwrap();
        assert_eq!(
            a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
            Ok(Reply::Bool(false))
        );
        let mut b = Conn::new(2);
        let j = b
            .send(
                &t,
                q(QueueRequest::Join {
                    wait: Wait::Forever,
                }),
            )
            .await;
        let timed = b.send(&t, q(QueueRequest::Join { wait: SHORT })).await;
        assert_eq!(b.later(timed).await, Ok(Reply::Bool(false)));
        a.call(&t, get(Wait::No)).await.unwrap();
        assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
        b.nothing();
        a.call(&t, get(Wait::No)).await.unwrap();
        assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
        assert_eq!(b.now(j), Ok(Reply::Bool(true)));
        assert!(matches!(
            a.call(&t, q(QueueRequest::TaskDone)).await,
            Err(ManagerError::TooManyReleases { .. })
        ));
    }

    #[actix::test]
    async fn items_handed_to_getters_count_as_unfinished() {
        let (_h, t) = joinable().await;
        let mut a = Conn::new(1);
        let g = a.send(&t, get(Wait::Forever)).await;
        a.call(&t, put(1, Wait::No)).await.unwrap();
        assert_eq!(a.now(g), Ok(Reply::Value(v(1))));
        assert_eq!(
            a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
            Ok(Reply::Bool(false))
        );
        assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
    }

    #[actix::test]
    async fn plain_queue_has_no_task_done_or_join_and_refuses_other_families() {
        let (_h, t) = bounded(1).await;
        let mut a = Conn::new(1);
        assert!(matches!(
            a.call(&t, q(QueueRequest::TaskDone)).await,
            Err(ManagerError::Unsupported { operation, .. }) if operation == "task_done"
        ));
        assert!(matches!(
            a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
            Err(ManagerError::Unsupported { operation, .. }) if operation == "join"
        ));
        assert!(matches!(
            a.call(&t, ObjectRequest::Namespace(NamespaceRequest::Names))
                .await,
            Err(ManagerError::WrongKind { .. })
        ));
    }

    #[actix::test]
    async fn removal_answers_every_parked_request() {
        let (h, t) = Harness::start(ObjectSpec::JoinableQueue { maxsize: Some(1) }).await;
        let mut a = Conn::new(1);
        let g = a.send(&t, get(Wait::Forever)).await;
        a.call(&t, put(1, Wait::No)).await.unwrap();
        assert_eq!(a.now(g), Ok(Reply::Value(v(1))));
        a.call(&t, put(2, Wait::No)).await.unwrap();
        let p = a.send(&t, put(3, Wait::Forever)).await;
        let j = a
            .send(
                &t,
                q(QueueRequest::Join {
                    wait: Wait::Forever,
                }),
            )
            .await;
        h.remove("t").await;
        assert!(matches!(a.now(p), Err(ManagerError::ObjectGone { .. })));
        assert!(matches!(a.now(j), Err(ManagerError::ObjectGone { .. })));
    }
}

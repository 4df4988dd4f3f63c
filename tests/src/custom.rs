//! Custom object types the custom-type tests register with their manager
//! and the worker entries call: an inventory (typed errors, atomic
//! updates, a request that panics), a lease (released when its holder's
//! connection closes), an environment probe (what the manager's process,
//! and a process it starts, see in their environment) and a slot (a custom
//! kind whose `Take` waits for an item).

use std::collections::{BTreeMap, VecDeque};

use manager::kind::{
    Caller, CustomRequest, KindDetail, ObjectContext, ObjectDetail, ObjectState, RequestId, Wait,
    WaiterId, Waiters,
};
use manager::{CallInfo, ConnectionId, CustomKind, CustomObject, CustomType};
use serde::{Deserialize, Serialize};

/// Stock counts by item; taking more than there is fails without change.
#[derive(Debug, Default)]
pub struct Inventory {
    stock: BTreeMap<String, u64>,
    /// Refuse to hold more than this of one item.
    cap: u64,
}

/// What creating an [`Inventory`] takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InventoryInit {
    /// The most of one item it holds; 0 is refused at creation.
    pub cap: u64,
}

/// The operations of an [`Inventory`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum InventoryRequest {
    /// Adds `count` of `item`; answers the new count.
    Stock {
        /// The item.
        item: String,
        /// How many.
        count: u64,
    },
    /// Takes `count` of `item` if there are that many; answers what is left.
    Take {
        /// The item.
        item: String,
        /// How many.
        count: u64,
    },
    /// How many of `item` there are.
    Count {
        /// The item.
        item: String,
    },
    /// The sum over every item.
    Total,
    /// Panics inside the manager, to test that only this object suffers.
    Panic,
}

/// Why an [`Inventory`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InventoryError {
    /// Fewer than asked for are in stock.
    Short {
        /// How many there are.
        have: u64,
    },
    /// Stocking would pass the cap.
    OverCap {
        /// The cap.
        cap: u64,
    },
}

impl CustomType for Inventory {
    const TYPE_NAME: &'static str = "tests.inventory";
    type Init = InventoryInit;
    type Request = InventoryRequest;
    type Reply = Result<u64, InventoryError>;
}

impl CustomObject for Inventory {
    fn create(init: InventoryInit) -> Result<Self, String> {
        if init.cap == 0 {
            return Err("an inventory needs a cap above 0".to_owned());
        }
        Ok(Inventory {
            stock: BTreeMap::new(),
            cap: init.cap,
        })
    }

    fn handle(&mut self, request: InventoryRequest, _call: &CallInfo<'_>) -> Self::Reply {
        match request {
            InventoryRequest::Stock { item, count } => {
                let have = self.stock.entry(item).or_default();
                let new = have.saturating_add(count);
                if new > self.cap {
                    return Err(InventoryError::OverCap { cap: self.cap });
                }
                *have = new;
                Ok(new)
            }
            InventoryRequest::Take { item, count } => {
                let have = self.stock.get(&item).copied().unwrap_or(0);
                if have < count {
                    return Err(InventoryError::Short { have });
                }
                self.stock.insert(item, have - count);
                Ok(have - count)
            }
            InventoryRequest::Count { item } => Ok(self.stock.get(&item).copied().unwrap_or(0)),
            InventoryRequest::Total => Ok(self.stock.values().sum()),
            InventoryRequest::Panic => panic!("inventory told to panic"),
        }
    }

    fn size(&self) -> Option<u64> {
        Some(self.stock.len() as u64)
    }
}

/// A single lease: one connection holds it at a time, and it is free again
/// when that connection closes, however its process ended.
#[derive(Debug, Default)]
pub struct Lease {
    holder: Option<ConnectionId>,
}

/// The operations of a [`Lease`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum LeaseRequest {
    /// Takes the lease if it is free; answers whether the caller holds it.
    Take,
    /// Whether anyone holds it.
    IsHeld,
}

impl CustomType for Lease {
    const TYPE_NAME: &'static str = "tests.lease";
    type Init = ();
    type Request = LeaseRequest;
    type Reply = bool;
}

impl CustomObject for Lease {
    fn create((): ()) -> Result<Self, String> {
        Ok(Lease::default())
    }

    fn handle(&mut self, request: LeaseRequest, call: &CallInfo<'_>) -> bool {
        match request {
            LeaseRequest::Take => {
                let holder = *self.holder.get_or_insert(call.connection());
                holder == call.connection()
            }
            LeaseRequest::IsHeld => self.holder.is_some(),
        }
    }

    fn connection_closed(&mut self, connection: ConnectionId) {
        if self.holder == Some(connection) {
            self.holder = None;
        }
    }
}

/// Looks at the environment of the manager's own process: application code
/// running inside a manager (a custom object's handler) sees what a
/// process the manager starts would inherit.
#[derive(Debug, Default)]
pub struct EnvProbe;

/// What an [`EnvProbe`] found for one variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvSeen {
    /// The manager's process has the variable.
    pub by_manager: bool,
    /// A process the manager starts (`env`) has it.
    pub by_child: bool,
}

impl CustomType for EnvProbe {
    const TYPE_NAME: &'static str = "tests.env_probe";
    type Init = ();
    /// The variable to look for.
    type Request = String;
    type Reply = Result<EnvSeen, String>;
}

impl CustomObject for EnvProbe {
    fn create((): ()) -> Result<Self, String> {
        Ok(EnvProbe)
    }

    fn handle(&mut self, name: String, _call: &CallInfo<'_>) -> Self::Reply {
        let by_manager = std::env::var_os(&name).is_some();
        // `env` prints its environment and exits: no wait to bound.
        let output = std::process::Command::new("env")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("run env: {e}"))?;
        if !output.status.success() {
            return Err(format!("env ended with {}", output.status));
        }
        let prefix = format!("{name}=");
        let by_child = output
            .stdout
            .split(|&b| b == b'\n')
            .any(|line| line.starts_with(prefix.as_bytes()));
        Ok(EnvSeen {
            by_manager,
            by_child,
        })
    }
}

/// A type with the inventory's name but other request and reply types, as
/// a client built from other sources would have.
#[derive(Debug)]
pub struct ImpostorInventory;

impl CustomType for ImpostorInventory {
    const TYPE_NAME: &'static str = "tests.inventory";
    type Init = InventoryInit;
    type Request = String;
    type Reply = String;
}

/// Arguments of the `inventory_take` worker entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InventoryTake {
    /// The inventory's name.
    pub name: String,
    /// The item to take.
    pub item: String,
    /// How many takes of 1 to try.
    pub tries: u64,
}

/// Items processes hand each other, whose `Take` waits for one: a custom
/// kind written against `ObjectState`, as the built-in queue is.
#[derive(Debug)]
pub struct Slot;

/// The operations of a [`Slot`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum SlotRequest {
    /// Adds an item at the back, or hands it to the longest waiting take.
    Put(u64),
    /// Adds an item at the front: how a taken item is given back.
    PutFront(u64),
    /// Takes the front item, waiting for one as long as the wait allows.
    Take(Wait),
    /// How many takes are waiting.
    Waiting,
}

/// What a [`Slot`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotReply {
    /// A put is done.
    Done,
    /// A take's item, or `None` if its wait ended first.
    Item(Option<u64>),
    /// How many takes wait.
    Waiting(u64),
}

impl CustomType for Slot {
    const TYPE_NAME: &'static str = "tests.slot";
    type Init = ();
    type Request = SlotRequest;
    type Reply = SlotReply;

    fn wait_mut(request: &mut SlotRequest) -> Option<&mut Wait> {
        match request {
            SlotRequest::Take(wait) => Some(wait),
            _ => None,
        }
    }

    fn may_take(request: &SlotRequest) -> bool {
        matches!(request, SlotRequest::Take(_))
    }

    fn undo_for(request: &SlotRequest, reply: &SlotReply) -> Option<SlotRequest> {
        match (request, reply) {
            (SlotRequest::Take(_), SlotReply::Item(Some(item))) => {
                Some(SlotRequest::PutFront(*item))
            }
            _ => None,
        }
    }
}

/// The manager's side of a [`Slot`].
#[derive(Debug, Default)]
pub struct SlotState {
    items: VecDeque<u64>,
    /// Parked takes.
    takers: Waiters<()>,
}

impl SlotState {
    /// Hands `item` to the longest waiting take, or keeps it.
    fn offer(&mut self, item: u64, front: bool, ctx: &mut ObjectContext<'_, Self>) {
        match self.takers.pop_front(ctx) {
            Some(taker) => taker
                .caller
                .reply_custom::<Slot>(Ok(SlotReply::Item(Some(item)))),
            None if front => self.items.push_front(item),
            None => self.items.push_back(item),
        }
    }
}

impl ObjectState for SlotState {
    type Request = CustomRequest<Slot>;

    fn handle(
        &mut self,
        request: CustomRequest<Slot>,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        match request.into_inner() {
            SlotRequest::Put(item) => {
                self.offer(item, false, ctx);
                caller.reply_custom::<Slot>(Ok(SlotReply::Done));
            }
            SlotRequest::PutFront(item) => {
                self.offer(item, true, ctx);
                caller.reply_custom::<Slot>(Ok(SlotReply::Done));
            }
            SlotRequest::Take(wait) => match self.items.pop_front() {
                Some(item) => caller.reply_custom::<Slot>(Ok(SlotReply::Item(Some(item)))),
                None if wait == Wait::No => caller.reply_custom::<Slot>(Ok(SlotReply::Item(None))),
                None => {
                    self.takers.park(caller, (), wait, ctx);
                }
            },
            SlotRequest::Waiting => {
                caller.reply_custom::<Slot>(Ok(SlotReply::Waiting(self.takers.len() as u64)));
            }
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(taker) = self.takers.take(waiter, ctx) {
            taker.caller.reply_custom::<Slot>(Ok(SlotReply::Item(None)));
        }
    }

    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        self.takers.cancel(connection, request, ctx)
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        self.takers.drop_connection(connection, ctx);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        for taker in self.takers.drain(ctx) {
            taker.caller.reply(Err(ctx.gone()));
        }
    }

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Items {
                len: self.items.len() as u64,
            },
            waiters: self.takers.len() as u64,
            ..ObjectDetail::default()
        }
    }
}

impl CustomKind for SlotState {
    type Type = Slot;

    fn create((): ()) -> Result<Self, String> {
        Ok(SlotState::default())
    }
}

//! The lines of the table: which operation, which object, which floor.

use crate::{CLIENTS, COUNTER_CLIENTS, DEPTH};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Op {
    Set,
    Get,
}

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Set => "set",
            Op::Get => "get",
        }
    }

    /// The same operation's row in the Python script's latency suite.
    pub(crate) fn python_label(self) -> &'static str {
        match self {
            Op::Set => "Namespace set (ns.x = v)",
            Op::Get => "Namespace get (ns.x)",
        }
    }
}

/// An operation on one of the other objects, by one blocking client. A call
/// of a pair is two round trips.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Obj {
    /// `Dict::insert` of `"k" → 1`.
    DictSet,
    /// `Dict::get` of `"k"`.
    DictGet,
    /// `List::append` of 1.
    ListAppend,
    /// `Queue::put` of 1, then `Queue::get`.
    QueuePair,
    /// `Lock::acquire`, then `Lock::release`.
    LockPair,
    /// `Value::get`.
    ValueGet,
    /// One call of a custom type (a counter's add), as registered by an
    /// application.
    CustomAdd,
}

impl Obj {
    pub(crate) const ALL: [Obj; 7] = [
        Obj::DictSet,
        Obj::DictGet,
        Obj::ListAppend,
        Obj::QueuePair,
        Obj::LockPair,
        Obj::ValueGet,
        Obj::CustomAdd,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Obj::DictSet => "dict set",
            Obj::DictGet => "dict get",
            Obj::ListAppend => "list append",
            Obj::QueuePair => "queue put+get pair",
            Obj::LockPair => "lock acq+rel pair",
            Obj::ValueGet => "value get",
            Obj::CustomAdd => "custom type call",
        }
    }

    /// The same operation's row in the Python script's latency suite.
    pub(crate) fn python_label(self) -> &'static str {
        match self {
            Obj::DictSet => "dict __setitem__",
            Obj::DictGet => "dict __getitem__",
            Obj::ListAppend => "list append",
            Obj::QueuePair => "Queue put+get pair",
            Obj::LockPair => "Lock acquire+release pair",
            Obj::ValueGet => "Value get (v.value)",
            // The Python workload has no registered type of its own.
            Obj::CustomAdd => "custom type call",
        }
    }
}

/// One line of the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Row {
    /// Raw socket ping-pong, `n` pairs.
    Floor(Op, usize),
    /// Ping-pong that also encodes and decodes every frame, one pair.
    FloorCodec(Op),
    /// Raw socket, 64 frames per write.
    FloorPipelined,
    /// 64 frames per write, every frame encoded and decoded.
    FloorCodecPipelined,
    /// 64 frames in flight, encoded and decoded, one write each.
    FloorCodecWriteEach,
    /// Blocking client, `n` clients.
    Blocking(Op, usize),
    /// Async client, one.
    Async(Op),
    /// Async client, waves of 64 gets joined.
    AsyncWaves,
    /// Async client, 64 gets kept in flight.
    AsyncWindow,
    /// Raw socket ping-pong with the frames of one call of `Obj`, one pair.
    ObjFloor(Obj),
    /// `Obj` by one blocking client.
    Obj(Obj),
    /// Raw socket ping-pong with the frames of a shared value's add, 4
    /// pairs.
    CounterFloor,
    /// 4 blocking clients adding 1 to one shared value.
    Counter,
}

impl Row {
    /// Every row, in the order of the table.
    pub(crate) fn all() -> Vec<Row> {
        let mut rows = Vec::new();
        for op in [Op::Set, Op::Get] {
            rows.extend(CLIENTS.map(|n| Row::Floor(op, n)));
            rows.push(Row::FloorCodec(op));
            rows.extend(CLIENTS.map(|n| Row::Blocking(op, n)));
            rows.push(Row::Async(op));
        }
        for obj in Obj::ALL {
            rows.extend([Row::ObjFloor(obj), Row::Obj(obj)]);
        }
        rows.extend([Row::CounterFloor, Row::Counter]);
        rows.extend([
            Row::FloorPipelined,
            Row::FloorCodecPipelined,
            Row::FloorCodecWriteEach,
            Row::AsyncWaves,
            Row::AsyncWindow,
        ]);
        rows
    }

    /// The raw floor this row is compared with; `None` for the raw floors.
    pub(crate) fn floor(self) -> Option<Row> {
        match self {
            Row::Floor(..) | Row::FloorPipelined | Row::ObjFloor(_) | Row::CounterFloor => None,
            Row::Obj(obj) => Some(Row::ObjFloor(obj)),
            Row::Counter => Some(Row::CounterFloor),
            Row::FloorCodec(op) | Row::Async(op) => Some(Row::Floor(op, 1)),
            Row::Blocking(op, n) => Some(Row::Floor(op, n)),
            Row::FloorCodecPipelined
            | Row::FloorCodecWriteEach
            | Row::AsyncWaves
            | Row::AsyncWindow => Some(Row::FloorPipelined),
        }
    }

    pub(crate) fn label(self) -> String {
        match self {
            Row::Floor(op, _) => format!("floor: raw ping-pong, {} frames", op.name()),
            Row::FloorCodec(op) => format!("floor + codec, {} frames", op.name()),
            Row::FloorPipelined => format!("floor: raw, {DEPTH} get frames a write"),
            Row::FloorCodecPipelined => format!("floor + codec, {DEPTH} get frames a write"),
            Row::FloorCodecWriteEach => format!("floor + codec, {DEPTH} gets, a write each"),
            Row::Blocking(op, _) => format!("ns.{}, blocking client", op.name()),
            Row::Async(op) => format!("ns.{}, async client", op.name()),
            Row::AsyncWaves => format!("ns.get, async, join_all of {DEPTH}"),
            Row::AsyncWindow => format!("ns.get, async, {DEPTH} kept in flight"),
            Row::ObjFloor(obj) => format!("floor: raw ping-pong, {} frames", obj.name()),
            Row::Obj(obj) => format!("{}, blocking client", obj.name()),
            Row::CounterFloor => "floor: raw ping-pong, value add frames".to_owned(),
            Row::Counter => "shared counter: value.add(1), blocking".to_owned(),
        }
    }

    pub(crate) fn clients(self) -> usize {
        match self {
            Row::Floor(_, n) | Row::Blocking(_, n) => n,
            Row::CounterFloor | Row::Counter => COUNTER_CLIENTS,
            _ => 1,
        }
    }
}

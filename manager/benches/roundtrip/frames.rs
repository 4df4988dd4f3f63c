//! The exact requests and replies of every row, as our proxies build
//! them, for the floors to send.

use manager::proxy;
use manager_core::reply::{Reply, ReplyFrame};
use manager_core::request::{
    DictRequest, ListRequest, LockRequest, NamespaceRequest, ObjectRequest, QueueRequest, Request,
    RequestFrame, ValueRequest, Wait,
};
use manager_core::{Encoded, ObjectId};
use manager_ipc::frame::{DEFAULT_MAX_FRAME, encode_frame};

use crate::rows::{Obj, Op};
use crate::run::Objects;
use crate::{ATTRIBUTE, DICT_KEY, SHARED_VALUE, TYPICAL_ID, TYPICAL_TOTAL, VALUE};

/// Our requests and replies for every row, and their exact bytes: a
/// Namespace set and get of `x = 1`, and the operations of the other
/// objects' rows, built as their proxies build them.
pub(crate) struct Frames {
    pub(crate) set: OpFrames,
    pub(crate) get: OpFrames,
    pub(crate) dict_set: OpFrames,
    pub(crate) dict_get: OpFrames,
    pub(crate) list_append: OpFrames,
    pub(crate) queue_put: OpFrames,
    pub(crate) queue_get: OpFrames,
    pub(crate) lock_acquire: OpFrames,
    pub(crate) lock_release: OpFrames,
    pub(crate) value_get: OpFrames,
    pub(crate) custom_add: OpFrames,
    pub(crate) counter_add: OpFrames,
}

pub(crate) struct OpFrames {
    pub(crate) request: Request,
    pub(crate) reply: Reply,
    pub(crate) request_bytes: Vec<u8>,
    pub(crate) reply_bytes: Vec<u8>,
}

impl OpFrames {
    pub(crate) fn new(target: ObjectId, op: ObjectRequest, reply: Reply) -> Self {
        let request = Request::Object { target, op };
        OpFrames {
            request_bytes: frame(&RequestFrame {
                id: TYPICAL_ID,
                request: request.clone(),
            }),
            reply_bytes: frame(&ReplyFrame {
                id: TYPICAL_ID,
                result: Ok(reply.clone()),
            }),
            request,
            reply,
        }
    }
}

impl Frames {
    pub(crate) fn new(ns: ObjectId, objects: &Objects) -> Self {
        let encode = |v: &i64| Encoded::encode(v).expect("an i64 encodes");
        let value = encode(&VALUE);
        // The dict's proxy encodes a `&String` key, as `Dict<String, i64>`.
        let key = Encoded::encode(&DICT_KEY.to_owned()).expect("a string encodes");
        // A blocking call is owned by its thread. Threads are numbered from
        // 1 as they first ask, so the bench's owners stay below 251: one
        // byte in the codec, as this thread's.
        let owner = proxy::current_owner();
        // An insert and a get both answer with the value the key had: 1,
        // set before the first round.
        let dict = |op| {
            let reply = Reply::MaybeValue(Some(value.clone()));
            OpFrames::new(objects.dict.id(), ObjectRequest::Dict(op), reply)
        };
        let queue = |op, reply| OpFrames::new(objects.queue.id(), ObjectRequest::Queue(op), reply);
        let lock = |op, reply| OpFrames::new(objects.lock.id(), ObjectRequest::Lock(op), reply);
        Frames {
            set: OpFrames::new(
                ns,
                ObjectRequest::Namespace(NamespaceRequest::Set {
                    attribute: ATTRIBUTE.to_owned(),
                    value: value.clone(),
                }),
                Reply::Done,
            ),
            get: OpFrames::new(
                ns,
                ObjectRequest::Namespace(NamespaceRequest::Get {
                    attribute: ATTRIBUTE.to_owned(),
                }),
                Reply::Value(value.clone()),
            ),
            dict_set: dict(DictRequest::Insert {
                key: key.clone(),
                value: value.clone(),
            }),
            dict_get: dict(DictRequest::Get { key }),
            list_append: OpFrames::new(
                objects.list.id(),
                ObjectRequest::List(ListRequest::Append {
                    value: value.clone(),
                }),
                Reply::Done,
            ),
            queue_put: queue(
                QueueRequest::Put {
                    value: value.clone(),
                    wait: Wait::Forever,
                },
                Reply::Done,
            ),
            queue_get: queue(
                QueueRequest::Get {
                    wait: Wait::Forever,
                },
                Reply::Value(value.clone()),
            ),
            lock_acquire: lock(
                LockRequest::Acquire {
                    owner,
                    wait: Wait::Forever,
                },
                Reply::Bool(true),
            ),
            lock_release: lock(LockRequest::Release { owner }, Reply::Done),
            value_get: OpFrames::new(
                objects.value.id(),
                ObjectRequest::Value(ValueRequest::Get),
                Reply::Value(encode(&SHARED_VALUE)),
            ),
            // The counter answers its total, which stays above 0: the
            // bench adds 0 each call, after one add of SHARED_VALUE.
            custom_add: OpFrames::new(
                objects.custom.id(),
                ObjectRequest::Custom(encode(&0)),
                Reply::Value(encode(&SHARED_VALUE)),
            ),
            counter_add: OpFrames::new(
                objects.counter.id(),
                ObjectRequest::Value(ValueRequest::Add { delta: 1 }),
                Reply::Integer(TYPICAL_TOTAL),
            ),
        }
    }

    pub(crate) fn of(&self, op: Op) -> &OpFrames {
        match op {
            Op::Set => &self.set,
            Op::Get => &self.get,
        }
    }

    /// The round trips of one call of `obj`, in order.
    pub(crate) fn steps(&self, obj: Obj) -> Vec<&OpFrames> {
        match obj {
            Obj::DictSet => vec![&self.dict_set],
            Obj::DictGet => vec![&self.dict_get],
            Obj::ListAppend => vec![&self.list_append],
            Obj::QueuePair => vec![&self.queue_put, &self.queue_get],
            Obj::LockPair => vec![&self.lock_acquire, &self.lock_release],
            Obj::ValueGet => vec![&self.value_get],
            Obj::CustomAdd => vec![&self.custom_add],
        }
    }

    /// `request → reply` bytes of each of `obj`'s round trips.
    pub(crate) fn sizes(&self, obj: Obj) -> String {
        self.steps(obj)
            .iter()
            .map(|f| format!("{} → {} B", f.request_bytes.len(), f.reply_bytes.len()))
            .collect::<Vec<_>>()
            .join(", then ")
    }
}

pub(crate) fn frame<T: serde::Serialize>(message: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(message, &mut out, DEFAULT_MAX_FRAME).expect("a small frame encodes");
    out
}

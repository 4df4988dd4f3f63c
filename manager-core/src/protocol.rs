//! The protocol version and the messages of the connection handshake.
//!
//! A connection starts with three messages, each a frame holding one of the
//! types below:
//!
//! 1. manager → client: [`ServerHello`], with the manager's protocol version
//!    and a random nonce.
//! 2. client → manager: [`ClientAuth`], with the client's version, its own
//!    nonce and an HMAC-SHA256 over both nonces keyed with the authkey.
//! 3. manager → client: [`ServerVerdict`]; on success it carries the manager's
//!    own HMAC, so the client knows the manager holds the key too.
//!
//! The key itself never crosses the wire. After the handshake, the client
//! sends [`RequestFrame`](crate::request::RequestFrame)s and the manager
//! answers with [`ReplyFrame`](crate::reply::ReplyFrame)s.

use serde::{Deserialize, Serialize};

/// The version of the wire protocol; both sides must speak the same one.
///
/// 2: custom object types, inspection, and the errors they brought.
/// 3: numbers read across widths (`ManagerError::DoesNotFit`, `Overflow`
/// naming the stored type) and the manager's identity in
/// [`ServerVerdict::Welcome`], acknowledged queue gets (`Receive`, `Ack`,
/// `Requeue`, `Delivery`).
/// 4: limits (`ManagerError::LimitReached`), the manager's last word on a
/// connection it closes (`RequestId::CONNECTION`), and object names checked
/// by the registry, so an invalid one fails only its request.
/// 5: list-shaped replies in parts ([`Reply::More`](crate::reply::Reply::More)),
/// parked requests taken back
/// ([`ObjectRequest::Cancel`](crate::request::ObjectRequest::Cancel)).
/// 6: the client's crate is `manager` (was `manager-ipc`), which renames the
/// type a shared proxy token is stored under.
/// 7: a condition's `Wait` answers
/// [`Reply::Woken`](crate::reply::Reply::Woken), with how many times over
/// it took the lock back and the wait's id; a wait whose caller gave up is
/// given back by the manager when its cancel arrives after the grant, or
/// else by the client, exactly those holds and only that wait's grant
/// ([`ConditionRequest::GiveBack`](crate::request::ConditionRequest::GiveBack)
/// names the wait), not the lock completely (which also freed a later
/// acquire of the same owner); a shared proxy's token names its proxy
/// type, checked on attach; namespace `Update`/`GetMany` and dict
/// `GetMany`/`RemoveMany`, answered by
/// [`Reply::MaybeValues`](crate::reply::Reply::MaybeValues) where a list of
/// optional values comes back.
/// 8: queue `PutMany`, `GetMany` and `ReturnMany`
/// ([`QueueRequest`](crate::request::QueueRequest)); inspection names the
/// manager's threads and each object's and connection's thread.
/// 9: inspection reports each object's latency and, in the totals, the
/// requests answered with an error, the failed handshakes and the
/// manager's resident memory; queue, condition and event `NWaiting`.
/// 10: a type tag is written whole once per frame and by reference after
/// that; shared memory blocks
/// ([`SharedMemoryRequest`](crate::request::SharedMemoryRequest),
/// [`Reply::Mapping`](crate::reply::Reply::Mapping) with its descriptor
/// beside the frame, `ManagerError::WrongSize`, `KindDetail::SharedMemory`),
/// whose kind comes before `Custom` in every kind enum.
/// 11: inspection reports the descriptors in flight, in the totals and
/// for each connection.
pub const PROTOCOL_VERSION: u16 = 11;

/// Bytes every handshake starts with, so a stray peer is told apart early.
pub const MAGIC: [u8; 4] = *b"RMGR";

/// Length of each side's random nonce.
pub const NONCE_LEN: usize = 32;

/// The manager's opening message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerHello {
    /// Always [`MAGIC`].
    pub magic: [u8; 4],
    /// The manager's [`PROTOCOL_VERSION`].
    pub version: u16,
    /// The manager's challenge.
    pub nonce: [u8; NONCE_LEN],
}

/// The client's answer to [`ServerHello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuth {
    /// The client's [`PROTOCOL_VERSION`].
    pub version: u16,
    /// The client's challenge to the manager.
    pub nonce: [u8; NONCE_LEN],
    /// HMAC-SHA256(authkey, "client" ‖ server nonce ‖ client nonce).
    pub mac: Vec<u8>,
}

/// The manager's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerVerdict {
    /// Authenticated; requests may follow.
    Welcome {
        /// HMAC-SHA256(authkey, "server" ‖ client nonce ‖ server nonce).
        mac: Vec<u8>,
        /// The manager's number for this connection, for logs and inspection.
        connection: u64,
        /// The manager's identity: a random number it chose when it started,
        /// so a token of one of its objects is not taken for an object of
        /// another manager.
        manager: u64,
        /// The largest frame the manager accepts and sends, in bytes; the
        /// client holds its own frames to the same limit.
        max_frame: u32,
    },
    /// Refused; the manager closes the connection after this.
    Rejected {
        /// Why, for example "authentication failed".
        reason: String,
    },
}

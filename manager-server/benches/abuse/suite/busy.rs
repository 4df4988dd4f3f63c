//! The control load: a well-behaved client as busy as a client can be
//! (batches of small pipelined reads on a connection of its own, replies
//! read as they come), run after the attack for as long as it took.
//!
//! On a two-core machine any busy peer costs the good client something:
//! the manager, the good client, the bench and the busy peer share two
//! CPUs, so scheduling alone adds milliseconds to a worst call. The row's
//! ratio compares the attack with this control, which shows what the
//! attack costs beyond being busy; the quiet baseline is reported beside
//! it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::ensure;
use manager::AuthKey;
use manager_core::reply::Reply;
use manager_core::request::{NamespaceRequest, ObjectRequest, Request};
use manager_core::{Encoded, ObjectId, ObjectSpec};

use super::raw::Raw;

/// Requests in flight at once.
const BATCH: usize = 64;

/// How long one batch's replies may take.
const BATCH_LIMIT: Duration = Duration::from_secs(60);

/// Keeps the manager busy with small reads for `span`; returns how many
/// were answered.
pub(crate) fn run(socket: &Path, key: &AuthKey, span: Duration) -> anyhow::Result<u64> {
    let mut raw = Raw::open(socket, key)?;
    let ns = raw.create("busy", ObjectSpec::Namespace)?;
    let set = NamespaceRequest::Set {
        attribute: "x".into(),
        value: Encoded::encode(&7_u64)?,
    };
    let (result, _) = raw.call(request(ns, set), BATCH_LIMIT)?;
    ensure!(matches!(result, Ok(Reply::Done)), "set: {result:?}");
    let end = Instant::now() + span;
    let mut answered = 0;
    while Instant::now() < end {
        let gets = (0..BATCH).map(|_| {
            request(
                ns,
                NamespaceRequest::Get {
                    attribute: "x".into(),
                },
            )
        });
        for reply in raw.pipeline(gets, BATCH_LIMIT)? {
            ensure!(
                reply.result.is_ok(),
                "a busy read failed: {:?}",
                reply.result
            );
            answered += 1;
        }
    }
    raw.remove("busy")?;
    Ok(answered)
}

fn request(ns: ObjectId, op: NamespaceRequest) -> Request {
    Request::Object {
        target: ns,
        op: ObjectRequest::Namespace(op),
    }
}

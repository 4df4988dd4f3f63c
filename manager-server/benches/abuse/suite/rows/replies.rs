//! Large replies: a client that never reads them, and single requests
//! whose reply grows with what the manager holds (a listing, an
//! inspection, a dict's values).

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use manager_core::reply::{RegistryReply, Reply};
use manager_core::request::{
    DictRequest, NamespaceRequest, ObjectRequest, RegistryRequest, Request,
};
use manager_core::{Encoded, ManagerError, ObjectSpec, WireName};

use super::{Ctx, Outcome, REPLY_LIMIT, describe, in_flight, object, wait_gone};
use crate::suite::memory;
use crate::suite::raw::Raw;
use crate::suite::report::{bytes, duration};

pub(super) fn backlog(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let sizes = ctx.sizes;
    let mut observer = ctx.connect()?;
    let ns = observer.create("big", ObjectSpec::Namespace)?;
    let value = Encoded::encode(&vec![7_u8; sizes.backlog_value])?;
    let set = NamespaceRequest::Set {
        attribute: "value".into(),
        value,
    };
    let (result, _) = observer.call(object(ns, ObjectRequest::Namespace(set)), REPLY_LIMIT)?;
    ensure!(
        matches!(result, Ok(Reply::Done)),
        "set the value: {result:?}"
    );
    let mut attackers = Vec::new();
    let mut writers = Vec::new();
    for _ in 0..sizes.backlog_connections {
        let mut raw = ctx.connect()?;
        let mut frames = Vec::new();
        for _ in 0..sizes.backlog_gets {
            let get = NamespaceRequest::Get {
                attribute: "value".into(),
            };
            raw.encode(object(ns, ObjectRequest::Namespace(get)), &mut frames)?;
        }
        writers.push(raw.writer(frames)?);
        attackers.push(raw);
    }
    let ids: Vec<u64> = attackers.iter().map(Raw::connection).collect();
    // Until the manager stops reading: no change for a second, or all read.
    let total = sizes.backlog_gets as u64;
    let deadline = Instant::now() + REPLY_LIMIT;
    let mut held = in_flight(&mut observer, &ids)?;
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_secs(1) && held.iter().any(|&h| h < total) {
        ensure!(Instant::now() < deadline, "the backlogs never settled");
        thread::sleep(Duration::from_millis(50));
        let now = in_flight(&mut observer, &ids)?;
        if now != held {
            held = now;
            since = Instant::now();
        }
    }
    ctx.hold();
    let after_hold = in_flight(&mut observer, &ids)?;
    let most: Vec<u64> = held
        .iter()
        .zip(&after_hold)
        .map(|(a, b)| *a.max(b))
        .collect();
    for writer in writers {
        let _ = writer.abandon();
    }
    drop(attackers);
    wait_gone(&mut observer, &ids)?;
    observer.remove("big")?;
    let per_connection = most
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let largest = most.iter().copied().max().unwrap_or(0);
    Ok(Outcome::check(
        format!(
            "holds {per_connection} of {total} replies per connection (at most ~{} each), then stops reading",
            bytes(largest * sizes.backlog_value as u64)
        ),
        most.iter().all(|&h| h < total),
        "the manager read every request of a client that does not read",
    ))
}

/// Objects made by [`create_objects`].
struct Made {
    created: usize,
    refused: usize,
    refusal: Option<String>,
}

impl std::fmt::Display for Made {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} created", self.created)?;
        if let Some(refusal) = &self.refusal {
            write!(f, ", {} refused (\"{refusal}\")", self.refused)?;
        }
        Ok(())
    }
}

fn object_name(i: usize) -> WireName {
    WireName::new(format!("o{i}"))
}

/// Creates namespaces `o0`, `o1`... pipelined.
fn create_objects(raw: &mut Raw, n: usize) -> anyhow::Result<Made> {
    let requests = (0..n).map(|i| {
        Request::Registry(RegistryRequest::CreateOrGet {
            name: object_name(i),
            spec: ObjectSpec::Namespace,
        })
    });
    let mut made = Made {
        created: 0,
        refused: 0,
        refusal: None,
    };
    for reply in raw.pipeline(requests, REPLY_LIMIT)? {
        match reply.result {
            Ok(Reply::Registry(RegistryReply::Object(_))) => made.created += 1,
            Err(e @ ManagerError::LimitReached { .. }) => {
                made.refused += 1;
                made.refusal.get_or_insert_with(|| e.to_string());
            }
            other => bail!("create an object: {other:?}"),
        }
    }
    Ok(made)
}

/// Removes what [`create_objects`] made, pipelined.
fn remove_objects(raw: &mut Raw, n: usize) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let requests = (0..n).map(|i| {
        Request::Registry(RegistryRequest::Remove {
            name: object_name(i),
        })
    });
    for reply in raw.pipeline(requests, REPLY_LIMIT)? {
        ensure!(
            matches!(reply.result, Ok(Reply::Registry(RegistryReply::Removed(_)))),
            "remove an object: {:?}",
            reply.result
        );
    }
    Ok(start.elapsed())
}

pub(super) fn listing(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let pid = ctx.server.pid();
    let before = memory::status(pid)?.rss;
    let mut raw = ctx.connect()?;
    let made = create_objects(&mut raw, ctx.sizes.objects)?;
    let per_object =
        memory::status(pid)?.rss.saturating_sub(before) * 1024 / made.created.max(1) as u64;
    let start = Instant::now();
    let (result, len) = raw.call(Request::Registry(RegistryRequest::List), REPLY_LIMIT)?;
    let took = start.elapsed();
    ctx.hold();
    let removal = remove_objects(&mut raw, ctx.sizes.objects)?;
    let whole = matches!(
        &result,
        Ok(Reply::Registry(RegistryReply::Objects(rows))) if rows.len() >= made.created
    );
    Ok(Outcome::check(
        format!(
            "{made} (RSS +{} per object); the listing: {} after {}; removing them took {}",
            bytes(per_object),
            describe(&result, len),
            duration(took),
            duration(removal)
        ),
        whole,
        "the listing did not hold every object",
    ))
}

pub(super) fn inspect(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut raw = ctx.connect()?;
    let made = create_objects(&mut raw, ctx.sizes.objects)?;
    let mut took = Vec::new();
    let mut last = String::new();
    let mut whole = true;
    for _ in 0..ctx.sizes.inspections {
        let start = Instant::now();
        let (result, len) = raw.call(Request::Registry(RegistryRequest::Inspect), REPLY_LIMIT)?;
        took.push(start.elapsed());
        last = describe(&result, len);
        whole &= matches!(
            &result,
            Ok(Reply::Registry(RegistryReply::Snapshot(s))) if s.objects.len() >= made.created
        );
    }
    let removal = remove_objects(&mut raw, ctx.sizes.objects)?;
    let fastest = took.iter().min().copied().unwrap_or_default();
    let slowest = took.iter().max().copied().unwrap_or_default();
    Ok(Outcome::check(
        format!(
            "{made}; {} inspections took {} to {} each, the last answered {last}; removing them took {}",
            took.len(),
            duration(fastest),
            duration(slowest),
            duration(removal)
        ),
        whole,
        "an inspection did not hold every object",
    ))
}

pub(super) fn dict_values(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut raw = ctx.connect()?;
    let dict = raw.create("values", ObjectSpec::Dict)?;
    // As large as a frame allows, with room for the request around it.
    let size = raw.max_frame() - 1024;
    for i in 0..ctx.sizes.dict_values {
        let insert = DictRequest::Insert {
            key: Encoded::encode(&(i as u64))?,
            value: Encoded::encode(&vec![i as u8; size])?,
        };
        let (result, _) = raw.call(object(dict, ObjectRequest::Dict(insert)), REPLY_LIMIT)?;
        ensure!(result.is_ok(), "insert value {i}: {result:?}");
    }
    let start = Instant::now();
    let (result, len) = raw.call(
        object(dict, ObjectRequest::Dict(DictRequest::Values)),
        REPLY_LIMIT,
    )?;
    let took = start.elapsed();
    ctx.hold();
    raw.remove("values")?;
    let whole =
        matches!(&result, Ok(Reply::Values(values)) if values.len() == ctx.sizes.dict_values);
    Ok(Outcome::check(
        format!(
            "{} values of {} stored; Dict Values answered {} after {}",
            ctx.sizes.dict_values,
            bytes(size as u64),
            describe(&result, len),
            duration(took)
        ),
        whole,
        "a reply larger than a frame did not arrive whole, in parts",
    ))
}

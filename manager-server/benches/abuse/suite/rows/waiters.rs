//! Parked requests: many timed waits that end together, and more lock
//! acquires than `max_parked` on one connection.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use manager_core::ManagerError;
use manager_core::ObjectSpec;
use manager_core::reply::Reply;
use manager_core::request::{LockRequest, ObjectRequest, Owner, QueueRequest, Wait};

use super::{Ctx, Outcome, REPLY_LIMIT, object, wait_gone};
use crate::suite::raw::Received;
use crate::suite::report::duration;

pub(super) fn waits(ctx: &Ctx<'_>, n: usize) -> anyhow::Result<Outcome> {
    let mut raw = ctx.connect()?;
    let queue = raw.create("waits", ObjectSpec::Queue { maxsize: None })?;
    let mut frames = Vec::new();
    for _ in 0..n {
        let get = QueueRequest::Get {
            wait: Wait::For(ctx.sizes.wait_for),
        };
        raw.encode(object(queue, ObjectRequest::Queue(get)), &mut frames)?;
    }
    let start = Instant::now();
    // Nothing is answered before the first wait ends, so the writes are
    // done before anything needs reading.
    raw.writer(frames)?.finish()?;
    let sent = start.elapsed();
    let deadline = Instant::now() + ctx.sizes.wait_for + REPLY_LIMIT;
    let (mut first, mut last) = (None, Duration::ZERO);
    let (mut empty, mut other) = (0, None);
    for got in 0..n {
        match raw.recv(deadline.saturating_duration_since(Instant::now()))? {
            Received::Frame(reply, _) => {
                let at = start.elapsed();
                first.get_or_insert(at);
                last = at;
                match reply.result {
                    Err(ManagerError::Empty { .. }) => empty += 1,
                    result => {
                        other.get_or_insert_with(|| format!("{result:?}"));
                    }
                }
            }
            Received::Closed => {
                bail!("the manager closed the connection after {got} of {n} replies")
            }
            Received::TimedOut => bail!("{got} of {n} waits ended in time"),
        }
    }
    raw.remove("waits")?;
    let first = first.unwrap_or_default();
    let mut text = format!(
        "{empty} of {n} ended Empty, {} to {} after the first was sent: spread {} (sending took {})",
        duration(first),
        duration(last),
        duration(last - first),
        duration(sent)
    );
    if let Some(other) = &other {
        text.push_str(&format!("; another reply: {other}"));
    }
    Ok(Outcome::check(
        text,
        empty == n,
        "not every timed wait ended as a timeout",
    ))
}

pub(super) fn parked(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let n = ctx.sizes.parked;
    let mut observer = ctx.connect()?;
    let mut raw = ctx.connect()?;
    let lock = raw.create("parked", ObjectSpec::Lock)?;
    let take = LockRequest::Acquire {
        owner: Owner(0),
        wait: Wait::No,
    };
    let (result, _) = raw.call(object(lock, ObjectRequest::Lock(take)), REPLY_LIMIT)?;
    ensure!(
        matches!(result, Ok(Reply::Bool(true))),
        "take the lock: {result:?}"
    );
    let mut frames = Vec::new();
    for i in 0..n {
        let acquire = LockRequest::Acquire {
            owner: Owner(i as u64 + 1),
            wait: Wait::Forever,
        };
        raw.encode(object(lock, ObjectRequest::Lock(acquire)), &mut frames)?;
    }
    // Applied after every acquire: how many are parked.
    let count = raw.encode(
        object(lock, ObjectRequest::Lock(LockRequest::NWaiting)),
        &mut frames,
    )?;
    let start = Instant::now();
    let writer = raw.writer(frames)?;
    let deadline = Instant::now() + REPLY_LIMIT;
    let (mut refused, mut refusal, mut other) = (0, None, None);
    let mut waiting = None;
    // Refusals may come after the count's reply: read until every acquire
    // is accounted for, or briefly after the count.
    let mut after_count: Option<Instant> = None;
    loop {
        let done = match (waiting, after_count) {
            (Some(w), Some(t)) => w + refused >= n as u64 || t.elapsed() > Duration::from_secs(1),
            _ => false,
        };
        if done {
            break;
        }
        let within = match after_count {
            Some(_) => Duration::from_millis(100),
            None => deadline.saturating_duration_since(Instant::now()),
        };
        match raw.recv(within)? {
            Received::Frame(reply, _) if reply.id == count => {
                match reply.result {
                    Ok(Reply::Count(c)) => waiting = Some(c),
                    result => bail!("count the waiters: {result:?}"),
                }
                after_count = Some(Instant::now());
            }
            Received::Frame(reply, _) => match reply.result {
                Err(e @ ManagerError::LimitReached { .. }) => {
                    refused += 1;
                    refusal.get_or_insert_with(|| e.to_string());
                }
                result => {
                    other.get_or_insert_with(|| format!("{result:?}"));
                }
            },
            Received::Closed => bail!("the manager closed the connection"),
            Received::TimedOut if after_count.is_some() => {}
            Received::TimedOut => bail!("no count of the waiters within {}", duration(REPLY_LIMIT)),
        }
    }
    writer.finish()?;
    let took = start.elapsed();
    let waiting = waiting.unwrap_or(0);
    ctx.hold();
    let id = raw.connection();
    drop(raw);
    wait_gone(&mut observer, &[id])?;
    observer.remove("parked")?;
    let max = ctx.limits.max_parked as u64;
    let mut text = format!("{waiting} parked, {refused} refused");
    if let Some(refusal) = &refusal {
        text.push_str(&format!(" (\"{refusal}\")"));
    }
    text.push_str(&format!(" of {n}, all read in {}", duration(took)));
    if waiting > max {
        text.push_str(&format!(
            "; max_parked ({max}) is not enforced by this build"
        ));
    }
    if let Some(other) = &other {
        text.push_str(&format!("; another reply: {other}"));
    }
    Ok(Outcome::check(
        text,
        waiting + refused == n as u64 && other.is_none(),
        "not every acquire was either parked or refused",
    ))
}

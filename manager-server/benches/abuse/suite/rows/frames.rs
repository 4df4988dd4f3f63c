//! Hostile frames: a length claim far beyond the frame, a frame begun and
//! never finished, one frame that decodes into millions of values.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use manager_core::request::{
    ListRequest, ObjectRequest, RegistryRequest, Request, RequestFrame, RequestId,
};
use manager_core::{Encoded, ObjectId, ObjectName, ObjectSpec, codec};
use manager_ipc::frame::HEADER_LEN;

use super::{Ctx, Outcome, REPLY_LIMIT, describe, object};
use crate::suite::memory;
use crate::suite::raw::{Raw, Received};
use crate::suite::report::{bytes, duration};

/// The frame of the bomb: a registry look-up whose name claims `claim`
/// bytes and holds one.
pub(super) fn bomb_frame(claim: u32) -> Vec<u8> {
    let marker = "marker-of-the-name";
    let frame = RequestFrame {
        id: RequestId(1),
        request: Request::Registry(RegistryRequest::Lookup {
            name: ObjectName::new(marker).expect("a valid name").into(),
        }),
    };
    let encoded = codec::encode(&frame).expect("encodes");
    let at = encoded
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("the name is in the frame");
    assert_eq!(
        usize::from(encoded[at - 1]),
        marker.len(),
        "a one-byte length"
    );
    let mut body = encoded[..at - 1].to_vec();
    // A varint whose next four bytes are the length.
    body.push(0xFC);
    body.extend_from_slice(&claim.to_le_bytes());
    body.push(b'x');
    let mut out = u32::try_from(body.len())
        .expect("short")
        .to_le_bytes()
        .to_vec();
    out.extend_from_slice(&body);
    out
}

pub(super) fn bomb(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let pid = ctx.server.pid();
    let before = memory::status(pid)?;
    let limit = before.size * 1024 + (256 << 20);
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--as={limit}"))
        .status()
        .context("run prlimit")?;
    ensure!(status.success(), "prlimit failed: {status}");
    let frame = bomb_frame((1 << 30) - 64);
    let mut raw = ctx.connect()?;
    raw.send_raw(&frame)?;
    let answer = match raw.recv(REPLY_LIMIT)? {
        Received::Frame(reply, len) => format!("answered {}", describe(&reply.result, len)),
        Received::Closed => "closed the connection".into(),
        Received::TimedOut => format!("no answer within {}", duration(REPLY_LIMIT)),
    };
    ctx.hold();
    drop(raw);
    let alive = memory::status(pid).is_ok();
    let growth = memory::status(pid)
        .map(|s| s.peak.saturating_sub(before.peak))
        .unwrap_or(0);
    Ok(Outcome::check(
        format!(
            "{answer}; {} under an address-space limit of {} (VmPeak +{})",
            if alive { "survived" } else { "**died**" },
            bytes(limit),
            bytes(growth * 1024)
        ),
        alive,
        "the manager did not survive the bomb",
    ))
}

pub(super) fn slow_frame(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let size = ctx.sizes.slow_frame;
    let mut raw = ctx.connect()?;
    let mut frame = u32::try_from(size)?.to_le_bytes().to_vec();
    frame.resize(HEADER_LEN + size - 1, 0);
    raw.send_raw(&frame)?;
    let sent = Instant::now();
    let limit = ctx.limits.frame_timeout + Duration::from_secs(30);
    let (text, closed) = match raw.recv(limit)? {
        Received::Frame(last, len) => {
            let reason = describe(&last.result, len);
            let closed = matches!(raw.recv(Duration::from_secs(5))?, Received::Closed);
            let what = if closed {
                "closed"
            } else {
                "answered, left open,"
            };
            (
                format!("{what} after {}: {reason}", duration(sent.elapsed())),
                closed,
            )
        }
        Received::Closed => (
            format!("closed without a word after {}", duration(sent.elapsed())),
            true,
        ),
        Received::TimedOut => (
            format!("still open after {}", duration(sent.elapsed())),
            false,
        ),
    };
    Ok(Outcome::check(
        text,
        closed,
        "a frame left unfinished kept its connection",
    ))
}

/// A List Extend of `target` as large as fits in `size` bytes of body, of
/// empty values (an empty type name, given whole once and by reference
/// after, and no bytes: three bytes each); and how many.
fn extend_frame(raw: &mut Raw, target: ObjectId, size: usize) -> anyhow::Result<(Vec<u8>, usize)> {
    let build = |id: RequestId, n: usize| -> anyhow::Result<Vec<u8>> {
        let empty = RequestFrame {
            id,
            request: object(
                target,
                ObjectRequest::List(ListRequest::Extend { values: Vec::new() }),
            ),
        };
        let mut body = codec::encode(&empty)?;
        // The values come last: their count, 0 here, is the last byte.
        ensure!(
            body.last() == Some(&0),
            "the count of values ends the frame"
        );
        body.pop();
        body.extend(codec::encode(&(n as u64))?);
        if n > 0 {
            // The first names its (empty) type; the rest refer to it.
            body.extend([0, 0, 0]);
            for _ in 1..n {
                body.extend([1, 0, 0]);
            }
        }
        let mut frame = u32::try_from(body.len())?.to_le_bytes().to_vec();
        frame.extend(body);
        Ok(frame)
    };
    // The hand-made encoding is the codec's for a few values.
    let nothing = codec::decode::<Encoded>(&[0, 0, 0])?;
    let small = build(RequestId(1), 3)?;
    let decoded = codec::decode::<RequestFrame>(&small[HEADER_LEN..])?;
    let expected = object(
        target,
        ObjectRequest::List(ListRequest::Extend {
            values: vec![nothing; 3],
        }),
    );
    ensure!(
        decoded.request == expected,
        "the hand-made extend decodes as {decoded:?}"
    );
    // The frame without values, with the longest count (9 bytes).
    let base = build(RequestId(1), 0)?.len() - HEADER_LEN - 1 + 9;
    let n = (size - base) / 3;
    let frame = build(raw.next_id(), n)?;
    ensure!(frame.len() - HEADER_LEN <= size, "{} bytes", frame.len());
    Ok((frame, n))
}

pub(super) fn extend(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut raw = ctx.connect()?;
    let list = raw.create("extend", ObjectSpec::List)?;
    let (frame, n) = extend_frame(&mut raw, list, ctx.sizes.extend_frame)?;
    let start = Instant::now();
    raw.send_raw(&frame)?;
    let answer = match raw.recv(REPLY_LIMIT)? {
        Received::Frame(reply, len) => describe(&reply.result, len),
        Received::Closed => "closed the connection".into(),
        Received::TimedOut => format!("no answer within {}", duration(REPLY_LIMIT)),
    };
    let took = start.elapsed();
    ctx.hold();
    let start = Instant::now();
    raw.remove("extend")?;
    let removal = start.elapsed();
    Ok(Outcome::expected(format!(
        "{n} values: answered {answer} after {}; removing the list took {}",
        duration(took),
        duration(removal)
    )))
}

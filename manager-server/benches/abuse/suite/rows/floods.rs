//! Floods: more authenticated connections than `max_connections`, more
//! silent unauthenticated ones than `max_handshakes`.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::ensure;

use super::{Ctx, Outcome, wait_gone};
use crate::suite::raw::Raw;
use crate::suite::report::duration;

pub(super) fn connections(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let max = ctx.limits.max_connections;
    let want = max + ctx.sizes.extra_connections;
    // The good client holds a slot, and so does the observer.
    let began = Instant::now();
    let mut observer = ctx.connect()?;
    let mut open = Vec::new();
    let (mut refused, mut refusal) = (0, None);
    let (mut failed, mut failure) = (0, None);
    for _ in 0..want {
        match ctx.connect() {
            Ok(raw) => open.push(raw),
            Err(e) => {
                let text = format!("{e:#}");
                if text.contains("too many connections") {
                    refused += 1;
                    refusal.get_or_insert(text);
                } else {
                    failed += 1;
                    failure.get_or_insert(text);
                }
            }
        }
    }
    let connected = began.elapsed();
    ctx.hold();
    let ids: Vec<u64> = open.iter().map(Raw::connection).collect();
    let accepted = open.len();
    let closing = began.elapsed();
    drop(open);
    wait_gone(&mut observer, &ids)?;
    let closed = began.elapsed();
    let again = ctx.connect().map(drop);
    let mut text = format!(
        "{accepted} of {want} taken (with the good client and an observer: {}), {refused} refused",
        accepted + 2
    );
    if let Some(refusal) = &refusal {
        text.push_str(&format!(" (\"{refusal}\")"));
    }
    if let Some(failure) = &failure {
        text.push_str(&format!("; {failed} failed otherwise (\"{failure}\")"));
    }
    text.push_str(&format!(
        "; connecting took until +{}, closing from +{} to +{}",
        duration(connected),
        duration(closing),
        duration(closed)
    ));
    match &again {
        Ok(()) => text.push_str("; once they closed, a new client is taken"),
        Err(e) => text.push_str(&format!(
            "; once they closed, a new client still fails: {e:#}"
        )),
    }
    Ok(Outcome::check(
        text,
        refused > 0 && accepted + 2 <= max && failed == 0 && again.is_ok(),
        "the connection limit did not refuse exactly what is over it",
    ))
}

/// One silent connection of the handshake flood.
struct Silent {
    stream: UnixStream,
    greeted: bool,
    closed: Option<Duration>,
}

impl Silent {
    /// Reads what has come; `true` once greeted or closed.
    fn poll(&mut self, since: Instant) -> io::Result<bool> {
        let mut buf = [0_u8; 1024];
        while self.closed.is_none() {
            match self.stream.read(&mut buf) {
                Ok(0) => self.closed = Some(since.elapsed()),
                Ok(_) => self.greeted = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    self.closed = Some(since.elapsed());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.greeted || self.closed.is_some())
    }
}

pub(super) fn handshakes(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let max = ctx.limits.max_handshakes;
    let want = max + ctx.sizes.extra_handshakes;
    let start = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..want {
        let stream = UnixStream::connect(ctx.server.socket())?;
        stream.set_nonblocking(true)?;
        silent.push(Silent {
            stream,
            greeted: false,
            closed: None,
        });
    }
    // Until each has been greeted or closed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut settled = true;
        for s in &mut silent {
            settled &= s.poll(start)?;
        }
        if settled {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "silent connections neither greeted nor closed"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let at_once = silent.iter().filter(|s| !s.greeted).count();
    let greeted = silent.iter().filter(|s| s.greeted).count();
    // A client connecting while the flood holds every handshake slot.
    let fresh_start = Instant::now();
    let fresh = match ctx.connect() {
        Ok(_) => format!("connects in {}", duration(fresh_start.elapsed())),
        Err(e) => format!(
            "fails after {} (\"{e:#}\")",
            duration(fresh_start.elapsed())
        ),
    };
    // Until the greeted ones are closed by the handshake deadline.
    let deadline = Instant::now() + ctx.limits.handshake_timeout + Duration::from_secs(30);
    loop {
        for s in &mut silent {
            s.poll(start)?;
        }
        if silent.iter().all(|s| s.closed.is_some()) {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "{} silent connections still open after the handshake deadline",
            silent.iter().filter(|s| s.closed.is_none()).count()
        );
        thread::sleep(Duration::from_millis(20));
    }
    let last = silent
        .iter()
        .filter(|s| s.greeted)
        .filter_map(|s| s.closed)
        .max()
        .unwrap_or_default();
    Ok(Outcome::check(
        format!(
            "{at_once} closed unanswered; {greeted} greeted, each over the limit closing the oldest, the last closed by {} (handshake_timeout {}); a client connecting during the flood {fresh}",
            duration(last),
            duration(ctx.limits.handshake_timeout)
        ),
        fresh.starts_with("connects"),
        "a client connecting during the flood was kept out",
    ))
}

//! A shared object of the application's own type whose requests wait: a
//! countdown latch.
//!
//! A [`CustomObject`](manager::CustomObject) answers each request at once.
//! A latch must not: `wait` parks until the count reaches zero. So its
//! state is written against [`ObjectState`], the trait every built-in kind
//! (a queue, a lock, a barrier) implements, and registered with
//! [`ManagerBuilder::register_kind`](manager::ManagerBuilder::register_kind):
//! it parks waits in [`Waiters`], answers them when the last count-down
//! comes, ends a timed wait at its deadline, takes back a wait whose caller
//! gave up, and drops the waits of a process that dies. Its requests are
//! the application's own serde enum; [`CustomType::wait_mut`] tells the
//! client where a request's [`Wait`] is, so a handle's timeout bounds it
//! as it bounds a queue `get`.
//!
//! The main process waits briefly first (the wait ends with the count
//! unchanged), then launches [`WORKERS`] worker processes that each count
//! down once, and waits until the latch opens.
//!
//! Run it with
//!
//! ```text
//! cargo run -p examples --example custom_kind
//! ```

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use manager::kind::{
    Caller, ConnectionId, CustomRequest, KindDetail, ObjectContext, ObjectDetail, ObjectState,
    RequestId, Wait, WaiterId, Waiters,
};
use manager::launcher::Entries;
use manager::{CustomKind, CustomType, Manager, blocking};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How many worker processes count down.
const WORKERS: u64 = 4;
/// The latch's name in the manager.
const LATCH: &str = "ready";
/// How long any one call may wait for the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A countdown latch, as clients see it: created with a count, opened when
/// that many count-downs have come.
struct Latch;

/// What a client asks of a latch.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum LatchRequest {
    /// One less to wait for; answers what is left.
    CountDown,
    /// Waits until the count is zero; answers what is left when the wait
    /// ends (zero if the latch opened).
    Wait(Wait),
}

impl CustomType for Latch {
    const TYPE_NAME: &'static str = "examples.latch";
    /// The count.
    type Init = u64;
    type Request = LatchRequest;
    /// What is left of the count.
    type Reply = u64;

    fn wait_mut(request: &mut LatchRequest) -> Option<&mut Wait> {
        match request {
            LatchRequest::Wait(wait) => Some(wait),
            LatchRequest::CountDown => None,
        }
    }
}

/// The latch as the manager holds it.
#[derive(Debug, Default)]
struct LatchState {
    count: u64,
    /// Waits parked until the count is zero.
    waiters: Waiters<()>,
}

impl ObjectState for LatchState {
    type Request = CustomRequest<Latch>;

    fn handle(
        &mut self,
        request: CustomRequest<Latch>,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        match request.into_inner() {
            LatchRequest::CountDown => {
                self.count = self.count.saturating_sub(1);
                if self.count == 0 {
                    for waiter in self.waiters.drain(ctx) {
                        waiter.caller.reply_custom::<Latch>(Ok(0));
                    }
                }
                caller.reply_custom::<Latch>(Ok(self.count));
            }
            LatchRequest::Wait(_) if self.count == 0 => caller.reply_custom::<Latch>(Ok(0)),
            LatchRequest::Wait(Wait::No) => caller.reply_custom::<Latch>(Ok(self.count)),
            LatchRequest::Wait(wait) => {
                self.waiters.park(caller, (), wait, ctx);
            }
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(waiter) = self.waiters.take(waiter, ctx) {
            waiter.caller.reply_custom::<Latch>(Ok(self.count));
        }
    }

    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        self.waiters.cancel(connection, request, ctx)
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        self.waiters.drop_connection(connection, ctx);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        for waiter in self.waiters.drain(ctx) {
            waiter.caller.reply(Err(ctx.gone()));
        }
    }

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Items { len: self.count },
            waiters: self.waiters.len() as u64,
            ..ObjectDetail::default()
        }
    }
}

impl CustomKind for LatchState {
    type Type = Latch;

    fn create(count: u64) -> Result<Self, String> {
        Ok(LatchState {
            count,
            ..LatchState::default()
        })
    }
}

/// A worker's entry: one count-down.
fn worker(index: u64) -> Result<()> {
    let client = blocking::Client::from_env()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT);
    let latch = client.lookup_custom::<Latch>(LATCH)?;
    let left = latch.call(LatchRequest::CountDown)?;
    println!("  worker {index} counted down; {left} left");
    Ok(())
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // In a worker process this runs the entry and exits; here it returns.
    Entries::new()
        .register_kind::<LatchState>()
        .entry("count_down", worker)
        .run_if_worker();

    let manager = Manager::builder()
        .register_kind::<LatchState>()
        .start()
        .context("start the manager")?;
    let client = manager.connect()?.with_timeout(CALL_TIMEOUT);
    println!("Custom kind example: a countdown latch");
    println!("======================================");
    let latch = client.custom::<Latch>(LATCH, &WORKERS)?;

    let left = latch.call(LatchRequest::Wait(Wait::For(Duration::from_millis(50))))?;
    println!("a wait of 50 ms ends with {left} count-downs still to come");
    ensure!(left == WORKERS, "nobody has counted down yet");

    let mut workers = (0..WORKERS)
        .map(|i| manager.launcher().spawn("count_down", &(i + 1)))
        .collect::<Result<Vec<_>, _>>()
        .context("launch the workers")?;
    // Parked in the manager until the last count-down; the handle's
    // timeout bounds the wait.
    let left = latch.call(LatchRequest::Wait(Wait::Forever))?;
    ensure!(left == 0, "the wait ended with {left} left");
    println!("the latch opened: all {WORKERS} workers are done");
    for worker in &mut workers {
        worker.join_timeout(CALL_TIMEOUT)?;
    }
    manager.shutdown();
    Ok(())
}

//! What the pool tests that run from async code share: a pool of
//! test-worker processes built without blocking the runtime, and the gate
//! the worker's `square_after_gate` task waits on.

use manager::pool::Pool;
use manager::proxy::{Event, Queue};
use manager::{Client, Manager};
use tokio::time::timeout;

use crate::DEADLINE;

/// A pool of `workers` processes of `program` (the test crate's
/// `worker_program!()`) handing out one item per job, built with
/// `build_async` within [`DEADLINE`].
pub async fn pool_of(manager: &Manager, program: &str, workers: usize) -> anyhow::Result<Pool> {
    let build = Pool::builder(manager)
        .workers(workers)
        .chunksize(1)
        .program(program)
        .build_async();
    Ok(timeout(DEADLINE, build).await??)
}

/// The queue on which a `square_after_gate` task given `prefix` says it
/// has started (with its worker's pid), and the event that opens its gate.
pub async fn gate(client: &Client, prefix: &str) -> anyhow::Result<(Queue<u32>, Event)> {
    let started = client
        .queue::<u32>(&format!("{prefix}/started"), None)
        .await?;
    let gate = client.event(&format!("{prefix}/gate")).await?;
    Ok((started, gate))
}

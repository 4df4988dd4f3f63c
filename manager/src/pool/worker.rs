//! The worker side of a pool: the messages between the pool and its
//! workers, and the loop a worker process runs.

use manager_core::Encoded;
use serde::{Deserialize, Serialize};

use super::Tasks;
use super::tasks::Failure;
use crate::{Error, blocking};

/// What a pool worker is launched with.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct WorkerArgs {
    pub(super) worker: u64,
    pub(super) tasks: String,
    pub(super) results: String,
    pub(super) initializer: Option<(String, Encoded)>,
}

/// A chunk of items of one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Job {
    pub(super) id: u64,
    pub(super) task: String,
    pub(super) items: Vec<(usize, Encoded)>,
}

/// The parent to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Order {
    Run(Job),
    Stop,
}

/// A worker to the parent.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Report {
    Done {
        worker: u64,
        job: u64,
        results: Vec<(usize, Result<Encoded, Failure>)>,
    },
    InitFailed {
        worker: u64,
        message: String,
    },
}

/// The pool worker's loop: run the initializer, then jobs until `Stop`.
pub(super) fn serve(tasks: &Tasks, args: &WorkerArgs) -> Result<(), Error> {
    let client = blocking::Client::from_env()?;
    let orders = client.queue::<Order>(&args.tasks, None)?;
    let results = client.queue::<Report>(&args.results, None)?;
    if let Some((name, input)) = &args.initializer
        && let Err(failure) = tasks.call(name, input)
    {
        results.put(&Report::InitFailed {
            worker: args.worker,
            message: failure.message(),
        })?;
        return Ok(());
    }
    loop {
        match orders.get()? {
            Order::Stop => return Ok(()),
            Order::Run(job) => {
                let done = job
                    .items
                    .iter()
                    .map(|(index, bytes)| (*index, tasks.call(&job.task, bytes)))
                    .collect();
                results.put(&Report::Done {
                    worker: args.worker,
                    job: job.id,
                    results: done,
                })?;
            }
        }
    }
}

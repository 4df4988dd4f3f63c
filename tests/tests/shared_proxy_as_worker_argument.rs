//! A proxy's token travels to a worker process as its launch argument, or
//! inside a queue item, and the worker uses the object through it.

use manager::proxy::{Queue, Shared};
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn worker_puts_on_a_queue_it_was_given() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let results = client.queue::<u64>("results", None)?;
    let token = results.share();

    let mut worker = manager.launcher().spawn_program(
        worker_program!(),
        "shared_queue_put_range",
        &(token, 50_u64),
    )?;
    // Each `get` waits at most the client's timeout.
    let got = (0..50)
        .map(|_| results.get())
        .collect::<Result<Vec<u64>, _>>()?;
    assert_eq!(got, (0..50).collect::<Vec<_>>(), "one producer: FIFO order");
    worker.join_timeout(DEADLINE)?;
    assert!(results.is_empty()?);
    Ok(())
}

/// Python's reply-queue pattern: each request carries the token of the
/// queue its answer goes to.
#[test]
fn worker_replies_on_queues_named_in_requests() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.queue::<Option<(u64, Shared<Queue<u64>>)>>("jobs", None)?;
    let mut worker =
        manager
            .launcher()
            .spawn_program(worker_program!(), "shared_reply_server", &"jobs")?;

    // Two askers, each with a reply queue of its own; the async client's
    // token is the same type as the blocking one's.
    let first = client.queue::<u64>("reply/first", None)?;
    let second = client.queue::<u64>("reply/second", None)?;
    for n in 1..=5_u64 {
        jobs.put(&Some((n, first.share())))?;
        jobs.put(&Some((n + 10, second.share())))?;
    }
    jobs.put(&None)?;

    let from_first = (0..5).map(|_| first.get()).collect::<Result<Vec<_>, _>>()?;
    let from_second = (0..5)
        .map(|_| second.get())
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(from_first, [1, 4, 9, 16, 25]);
    assert_eq!(from_second, [121, 144, 169, 196, 225]);
    worker.join_timeout(DEADLINE)?;
    Ok(())
}

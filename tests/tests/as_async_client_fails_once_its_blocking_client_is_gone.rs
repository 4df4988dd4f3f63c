//! `blocking::Client::as_async` now returns an owned async `Client` (it
//! used to lend `&Client`, which could not outlive the blocking client).
//! The connection's reader and flush tasks live on the blocking client's
//! runtime, which goes when the last blocking handle goes: a call on the
//! async client after that must fail (the connection can never answer it),
//! not wait forever. That holds too for a blocking client that never made
//! a call, whose reader task never ran (it once closed the connection only
//! if it had).

use std::time::Duration;

use manager::Client;
use tests::start_manager;

/// Far longer than a call to a local manager takes, or a failure to be
/// reported.
const ANSWER: Duration = Duration::from_secs(10);

/// Adds 1 to `hits` of the namespace `counters` through `asynchronous`,
/// whose blocking client is gone: the call fails, or is answered with
/// `expected`, within [`ANSWER`].
fn add_through(asynchronous: &Client, expected: i64) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        tokio::time::timeout(ANSWER, async {
            let counters = asynchronous.namespace("counters").await?;
            counters.add("hits", 1).await
        })
        .await
    });
    match outcome {
        Ok(Ok(n)) => assert_eq!(n, expected, "answered, but wrongly"),
        Ok(Err(error)) => eprintln!("failed as it may: {error}"),
        Err(_) => panic!("the call neither got an answer nor failed within {ANSWER:?}"),
    }
    Ok(())
}

#[test]
fn a_call_on_the_async_client_fails_after_the_blocking_client_is_dropped() -> anyhow::Result<()> {
    let manager = start_manager()?;
    // No timeout on the handle: a call either gets an answer or an error.
    let client = manager.connect()?;
    let counters = client.namespace("counters")?;
    counters.add("hits", 1)?;
    let asynchronous = client.as_async();
    drop(counters);
    drop(client);
    add_through(&asynchronous, 2)
}

#[test]
fn a_call_on_the_async_client_of_a_blocking_client_that_never_called_fails() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect()?;
    let asynchronous = client.as_async();
    drop(client);
    add_through(&asynchronous, 1)
}

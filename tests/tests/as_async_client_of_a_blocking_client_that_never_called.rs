//! A blocking client dropped before its first call, whose async client
//! (`as_async`) lives on: that async client's calls fail with
//! `ManagerGone`, as `blocking::Client::as_async` promises. (They were sent
//! and waited for ever: the reader task closed the connection when dropped
//! only once it had run, and a blocking client's reader runs first inside
//! its first call.)

use std::time::Duration;

use tests::start_manager;

/// Far longer than a call to a local manager takes, or a failure to be
/// reported.
const ANSWER: Duration = Duration::from_secs(10);

#[test]
fn a_call_on_the_async_client_of_a_blocking_client_that_never_called_fails() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect()?;
    let asynchronous = client.as_async();
    drop(client);

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
        Ok(Ok(n)) => assert_eq!(n, 1, "answered, but wrongly"),
        Ok(Err(error)) => eprintln!("failed as it may: {error}"),
        Err(_) => panic!("the call neither got an answer nor failed within {ANSWER:?}"),
    }
    Ok(())
}

//! A blocking constructor called inside an async context of a tokio runtime
//! fails with `Error::InsideRuntime` (naming the async call to await)
//! instead of panicking, while in `spawn_blocking`, in `block_in_place`
//! and on a thread that only entered a runtime it connects and works.

use manager::{Error, Manager, blocking};
use tests::{DEADLINE, SHARED, start_manager};

/// Every blocking constructor, called here: each must be refused.
fn assert_all_refused(manager: &Manager) {
    let refused = [
        ("Manager::connect", manager.connect().map(drop)),
        (
            "blocking::Client::connect",
            blocking::Client::connect(manager.address(), manager.authkey()).map(drop),
        ),
        // Refused before it reads the environment (which has no manager).
        (
            "blocking::Client::from_env",
            blocking::Client::from_env().map(drop),
        ),
    ];
    for (call, result) in refused {
        match result {
            Err(Error::InsideRuntime { call: named, .. }) if named == call => {}
            other => panic!("{call}: expected InsideRuntime, got {other:?}"),
        }
    }
    let err = manager.connect().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Manager::connect blocks, but was called inside an async runtime; await Manager::connect_async there, or call it in spawn_blocking"
    );
}

/// A blocking client made here works: a call goes through.
fn connect_and_add(manager: &Manager) -> anyhow::Result<i64> {
    let ns = manager
        .connect()?
        .with_timeout(DEADLINE)
        .namespace(SHARED)?;
    Ok(ns.add("blocking", 1)?)
}

#[tokio::test]
async fn refused_in_the_body_of_a_current_thread_runtime() -> anyhow::Result<()> {
    let manager = start_manager()?;
    assert_all_refused(&manager);
    // The async twin works here.
    let ns = manager.connect_async().await?.namespace(SHARED).await?;
    assert_eq!(ns.add("async", 1).await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_in_the_body_and_in_tasks_of_a_multi_thread_runtime() -> anyhow::Result<()> {
    let manager = std::sync::Arc::new(start_manager()?);
    assert_all_refused(&manager);
    let in_task = manager.clone();
    tokio::time::timeout(
        DEADLINE,
        tokio::spawn(async move { assert_all_refused(&in_task) }),
    )
    .await??;
    Ok(())
}

#[tokio::test]
async fn works_in_spawn_blocking() -> anyhow::Result<()> {
    let manager = std::sync::Arc::new(start_manager()?);
    let shared = manager.clone();
    let added = tokio::time::timeout(
        DEADLINE,
        tokio::task::spawn_blocking(move || connect_and_add(&shared)),
    )
    .await???;
    assert_eq!(added, 1);
    // Refused again once back in the async body.
    assert!(matches!(
        manager.connect(),
        Err(Error::InsideRuntime { .. })
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_in_block_in_place() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let added = tokio::task::block_in_place(|| connect_and_add(&manager))?;
    assert_eq!(added, 1);
    Ok(())
}

#[test]
fn works_on_a_thread_that_only_entered_a_runtime() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _entered = runtime.enter();
    assert!(tokio::runtime::Handle::try_current().is_ok());
    assert_eq!(connect_and_add(&manager)?, 1);
    Ok(())
}

//! `List::sort` retries when another client changed the list between its
//! read and its write-back, but not for ever: after `List::SORT_ATTEMPTS`
//! failed attempts, or once the handle's timeout has passed, it gives up
//! with `Error::Contended`, leaving the list as it was.
//!
//! The interference is deterministic: the comparator itself asks another
//! connection (a thread with its own client) to rewrite `l[0]` with the
//! value it holds, which changes the list's version and nothing else. So
//! every attempt whose comparator meddles is bound to fail.

use std::sync::mpsc;
use std::time::Duration;

use manager::{Error, blocking};
use tests::{DEADLINE, connect, start_manager};

/// Runs `body` with a `meddle` function that makes another connection
/// rewrite `l[0]` of `list` with `value`, and returns once it has.
fn with_meddler<R>(
    manager: &manager::Manager,
    list: &str,
    value: i64,
    body: impl FnOnce(&dyn Fn()) -> R,
) -> anyhow::Result<R> {
    let other = connect(manager)?.list::<i64>(list)?;
    let (ask, asked) = mpsc::channel::<()>();
    let (tell, told) = mpsc::channel::<Result<(), Error>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // Ends when `ask` is dropped.
            for () in asked {
                if tell.send(other.set(0, &value)).is_err() {
                    return;
                }
            }
        });
        let meddle = || {
            ask.send(()).expect("the meddler is running");
            told.recv_timeout(DEADLINE)
                .expect("the meddler answers in time")
                .expect("the meddler's write succeeds");
        };
        let result = body(&meddle);
        drop(ask);
        Ok(result)
    })
}

fn list_of(
    client: &blocking::Client,
    name: &str,
    items: &[i64],
) -> anyhow::Result<blocking::List<i64>> {
    let list = client.list::<i64>(name)?;
    list.extend(items)?;
    Ok(list)
}

#[test]
fn a_sort_that_always_loses_the_race_gives_up() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = list_of(&client, "contended", &[2, 1])?;
    let mut compared = 0;
    let result = with_meddler(&manager, "contended", 2, |meddle| {
        list.sort_by(|a, b| {
            compared += 1;
            meddle();
            a.cmp(b)
        })
    })?;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Contended { operation, what, attempts: 32 }
                if operation == "sort" && what == "list `contended`"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "sort of list `contended` gave up after 32 attempts: other clients kept changing it"
    );
    assert!(compared >= 32, "one read and sort per attempt: {compared}");
    assert_eq!(list.snapshot()?, [2, 1], "the list is as it was");
    Ok(())
}

#[test]
fn a_sort_that_loses_once_retries_and_succeeds() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = list_of(&client, "once", &[3, 1, 2])?;
    let mut meddled = false;
    with_meddler(&manager, "once", 3, |meddle| {
        list.sort_by(|a, b| {
            if !meddled {
                meddled = true;
                meddle();
            }
            a.cmp(b)
        })
    })??;
    assert!(meddled);
    assert_eq!(list.snapshot()?, [1, 2, 3]);
    Ok(())
}

#[test]
fn a_sort_gives_up_by_the_handles_timeout() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    list_of(&client, "impatient", &[2, 1])?;
    // 32 attempts take at least 231 ms of pauses alone (1, 2, 4, then 8 ms
    // each), so a 100 ms timeout ends the sort well before its last one.
    let limit = Duration::from_millis(100);
    let list = client.list::<i64>("impatient")?.with_timeout(limit);
    let result = with_meddler(&manager, "impatient", 2, |meddle| {
        list.sort_by(|a, b| {
            meddle();
            a.cmp(b)
        })
    })?;
    match result {
        Err(Error::Contended { attempts, .. }) => {
            assert!((1..32).contains(&attempts), "{attempts} attempts");
        }
        // A call that got no answer in what was left of the timeout.
        Err(Error::Timeout { after }) => assert_eq!(after, limit),
        other => panic!("expected Contended or Timeout, got {other:?}"),
    }
    assert_eq!(list.snapshot()?, [2, 1], "the list is as it was");
    Ok(())
}

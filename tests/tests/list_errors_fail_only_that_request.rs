//! A list misuse (an index out of range, a pop from an empty list, the
//! removal of an absent value, the wrong element type) is a typed error
//! that names the list and fails that request only: requests pipelined
//! around it on the same connection succeed.

use manager::{Error, ManagerError};
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn errors_name_the_list_and_change_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = client.list::<i64>("jobs")?;
    list.extend(&[1, 2, 3])?;

    let err = list.get(3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "index 3 is out of range for list `jobs` of length 3"
    );
    let err = list.pop_index(-4).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manager(ManagerError::IndexOutOfRange {
                index: -4,
                len: 3,
                ..
            })
        ),
        "{err}"
    );
    let err = list.index(&7).unwrap_err();
    assert_eq!(err.to_string(), "list `jobs` does not contain the value");
    let err = client.list::<i64>("empty")?.pop().unwrap_err();
    assert_eq!(err.to_string(), "list `empty` is empty");
    let err = client.list::<String>("jobs")?.snapshot().unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::WrongType { .. })),
        "{err}"
    );
    assert_eq!(list.snapshot()?, [1, 2, 3]);
    Ok(())
}

#[test]
fn a_failed_request_among_pipelined_ones_fails_alone() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        let list = client.list::<i64>("pipelined").await?;
        list.extend(&[1, 2, 3]).await?;
        // Many requests in flight at once on one connection, every third
        // one out of range.
        let tasks: Vec<_> = (0..60_i64)
            .map(|i| {
                let list = list.clone();
                tokio::spawn(async move {
                    if i % 3 == 0 {
                        list.get(100 + i).await.map(|_| ())
                    } else {
                        list.append(&i).await
                    }
                })
            })
            .collect();
        let mut failed = 0;
        for (i, task) in (0..).zip(tasks) {
            match task.await? {
                Ok(()) => assert!(i % 3 != 0, "get({}) succeeded", 100 + i),
                Err(Error::Manager(ManagerError::IndexOutOfRange { index, .. })) => {
                    assert_eq!(index, 100 + i);
                    failed += 1;
                }
                Err(e) => panic!("request {i}: {e}"),
            }
        }
        assert_eq!(failed, 20);
        let mut items = list.snapshot().await?;
        items.sort();
        let mut expected: Vec<i64> = (0..60).filter(|i| i % 3 != 0).chain(1..=3).collect();
        expected.sort();
        assert_eq!(items, expected);
        // The sort's futures are Send: they ran on a multi-threaded runtime.
        tokio::spawn({
            let list = list.clone();
            async move { list.sort().await }
        })
        .await??;
        assert_eq!(list.snapshot().await?, expected);
        anyhow::Ok(())
    })
}

#[test]
fn errors_in_a_worker_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    connect(&manager)?
        .list::<i64>("checked")?
        .extend(&[1, 2, 3])?;
    manager
        .launcher()
        .spawn_program(worker_program!(), "list_check_errors", "checked")?
        .join_timeout(DEADLINE)?;
    assert_eq!(
        connect(&manager)?.list::<i64>("checked")?.snapshot()?,
        [1, 2, 3, 4]
    );
    Ok(())
}

//! Appends from several worker processes all arrive, each worker's in the
//! order it made them, and a `sort` racing with them loses none: it
//! replaces the list only if nothing changed since it read it.

use std::time::Instant;

use anyhow::ensure;
use tests::containers::ListAppend;
use tests::{DEADLINE, connect, run_workers, start_manager, worker_program};

#[test]
fn three_workers_appending_lose_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let list = connect(&manager)?.list::<i64>("log")?;
    let args: Vec<ListAppend> = (1..=3)
        .map(|index| ListAppend {
            list: "log".into(),
            index,
            count: 400,
        })
        .collect();
    run_workers(&manager, worker_program!(), "list_append", args.clone())?;

    let items = list.snapshot()?;
    assert_eq!(items.len(), 1_200);
    for worker in &args {
        // Each worker's items, in the order it appended them.
        let mine: Vec<i64> = items
            .iter()
            .copied()
            .filter(|item| item / 100_000 == worker.index)
            .collect();
        assert_eq!(
            mine,
            worker.items().collect::<Vec<_>>(),
            "worker {}",
            worker.index
        );
    }
    Ok(())
}

#[test]
fn sorting_while_workers_append_loses_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let list = connect(&manager)?.list::<i64>("racy")?;
    let initial: Vec<i64> = (0..200).rev().collect();
    list.extend(&initial)?;

    let args: Vec<ListAppend> = (1..=2)
        .map(|index| ListAppend {
            list: "racy".into(),
            index,
            count: 300,
        })
        .collect();
    let mut workers = args
        .iter()
        .map(|a| {
            manager
                .launcher()
                .spawn_program(worker_program!(), "list_append", a)
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Sort over and over while the workers append.
    let deadline = Instant::now() + DEADLINE;
    let mut sorts = 0;
    loop {
        let mut running = false;
        for worker in &mut workers {
            running |= worker.try_status()?.is_none();
        }
        if !running {
            break;
        }
        ensure!(Instant::now() < deadline, "the workers did not finish");
        list.sort()?;
        sorts += 1;
    }
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }
    list.sort()?;

    let mut expected: Vec<i64> = initial;
    for a in &args {
        expected.extend(a.items());
    }
    expected.sort();
    assert_eq!(list.snapshot()?, expected, "after {sorts} racing sorts");
    Ok(())
}

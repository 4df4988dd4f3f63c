//! Appends from several worker processes all arrive, each worker's in the
//! order it made them, and a `sort` racing with them loses none: it
//! replaces the list only if nothing changed since it read it.

use std::sync::mpsc;
use std::time::Instant;

use anyhow::ensure;
use manager::Error;
use tests::containers::ListAppend;
use tests::{DEADLINE, connect, run_workers, start_manager, wait_until, worker_program};

#[test]
fn three_workers_appending_lose_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let list = connect(&manager)?.list::<i64>("log")?;
    let args: Vec<ListAppend> = (1..=3)
        .map(|index| ListAppend {
            list: "log".into(),
            index,
            count: 400,
            start: None,
            resume: None,
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

/// The workers wait for the `start` gate, which opens as the sort loop
/// begins, and halfway through for the `resume` gate. The first sort's
/// comparator (which runs between the sort's read and its write-back) has
/// another connection open `resume` and wait until an append has landed:
/// so that sort's first write-back is refused and it must retry while the
/// workers append, however the processes are scheduled. Every wait is
/// bounded by the deadline.
#[test]
fn sorting_while_workers_append_loses_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = client.list::<i64>("racy")?;
    let initial: Vec<i64> = (0..200).rev().collect();
    list.extend(&initial)?;
    let start = client.event("racy-start")?;

    let args: Vec<ListAppend> = (1..=2)
        .map(|index| ListAppend {
            list: "racy".into(),
            index,
            count: 300,
            start: Some("racy-start".into()),
            resume: Some("racy-resume".into()),
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

    // Another connection, on a thread of its own (a blocking call cannot
    // run inside another client's call): asked once, it opens `resume` and
    // waits until the list grows.
    let helper = connect(&manager)?;
    let (ask, asked) = mpsc::channel::<()>();
    let (tell, told) = mpsc::channel::<anyhow::Result<()>>();
    let (mut sorts, mut contended) = (0, 0);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Dropped however this closure returns, which ends the helper.
        let ask = ask;
        scope.spawn(move || {
            let grew = || -> anyhow::Result<()> {
                let list = helper.list::<i64>("racy")?;
                let seen = list.len()?;
                helper.event("racy-resume")?.set()?;
                wait_until("an append lands during the sort", || Ok(list.len()? > seen))
            };
            if asked.recv().is_ok() {
                let _ = tell.send(grew());
            }
        });

        let deadline = Instant::now() + DEADLINE;
        start.set()?;
        let mut raced = None;
        // The racing sort.
        let first = list.sort_by(|a, b| {
            if raced.is_none() {
                raced = Some(
                    ask.send(())
                        .map_err(anyhow::Error::from)
                        .and_then(|()| told.recv_timeout(DEADLINE)?),
                );
            }
            a.cmp(b)
        });
        drop(ask);
        raced.expect("the comparator ran")?;
        let mut outcome = first;
        // Sort over and over while the workers append.
        loop {
            sorts += 1;
            match outcome {
                Ok(()) => {}
                // The appends changed the list during every attempt: a
                // legitimate outcome of a racing sort, which changed
                // nothing.
                Err(Error::Contended { .. }) => contended += 1,
                Err(e) => return Err(e.into()),
            }
            let mut running = false;
            for worker in &mut workers {
                running |= worker.try_status()?.is_none();
            }
            if !running {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "the workers did not finish");
            outcome = list.sort();
        }
    })?;
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }
    list.sort()?;

    let mut expected: Vec<i64> = initial;
    for a in &args {
        expected.extend(a.items());
    }
    expected.sort();
    assert_eq!(
        list.snapshot()?,
        expected,
        "after {sorts} racing sorts, {contended} of which gave up"
    );
    Ok(())
}

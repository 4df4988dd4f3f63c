//! A `get_many` whose caller gave up is given back whole, in order, to
//! the front of the queue (docs/semantics.md, *Bulk queue calls*). Into a
//! full bounded queue the client's `ReturnMany` waits until there is room
//! for all of it, then enters at once: a get never takes its later items
//! before its first. (It used to enter as room appeared, the last item
//! first, and a get between two entries took 2 before 1.)

use std::pin::pin;

use manager::{Manager, blocking};
use manager_core::inspect::KindDetail;
use tests::{DEADLINE, poll_once, wait_until};

fn state(observer: &blocking::Client) -> anyhow::Result<(u64, u64)> {
    let snapshot = observer.inspect()?;
    let detail = snapshot
        .object("jobs")
        .and_then(|o| o.detail.clone())
        .expect("jobs exists");
    let KindDetail::Queue { len, .. } = detail.size else {
        panic!("a queue")
    };
    Ok((len, detail.waiters))
}

#[test]
fn a_late_get_many_returned_into_a_full_queue_comes_out_in_order() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let observer = manager.connect()?.with_timeout(DEADLINE);
    let jobs = observer.queue::<u32>("jobs", Some(3))?;
    jobs.put_many(&[1, 2, 3])?;
    let producer = manager.connect()?.with_timeout(DEADLINE);
    let put = std::thread::spawn(move || -> anyhow::Result<()> {
        producer.queue::<u32>("jobs", Some(3))?.put(&4)?;
        Ok(())
    });
    wait_until("the put of 4 is parked", || Ok(state(&observer)?.1 == 1))?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let consumer = rt.block_on(manager.connect_async())?;
    let consumer_jobs = rt.block_on(consumer.queue::<u32>("jobs", Some(3)))?;
    rt.block_on(async {
        let mut take = pin!(consumer_jobs.get_many(2));
        assert!(poll_once(&mut take).await.is_none(), "sent, not answered");
    });
    put.join().expect("producer")?;
    // 1 and 2 were taken, 4 came in behind 3: room for one of the two
    // given back, so the return waits, whole.
    wait_until("the return waits for room for both", || {
        Ok(state(&observer)? == (2, 1))
    })?;

    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(jobs.get_timeout(DEADLINE)?);
    }
    // 3 goes first (the return was not in yet); its get makes room for
    // both, which enter together at the front, in their order.
    assert_eq!(order, [3, 1, 2, 4], "the items given back keep their order");
    Ok(())
}

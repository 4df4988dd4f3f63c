//! Queue, Condition and Event say how many calls wait on them
//! (`n_waiting`), as Lock, Semaphore and Barrier do: a get parked on an
//! empty queue, a wait for a notify, a wait for an event; each is counted
//! while it waits and no longer once it is answered.

use manager::blocking;
use tests::{DEADLINE, connect, start_manager, wait_until};

#[test]
fn parked_calls_are_counted_until_they_are_answered() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client: blocking::Client = connect(&manager)?;
    let queue = client.queue::<u32>("jobs", None)?;
    let event = client.event("go")?;
    let condition = client.condition("ready")?;
    assert_eq!(
        (
            queue.n_waiting()?,
            event.n_waiting()?,
            condition.n_waiting()?
        ),
        (0, 0, 0)
    );

    let getter = {
        let queue = queue.clone();
        std::thread::spawn(move || queue.get())
    };
    let event_waiter = {
        let event = event.clone();
        std::thread::spawn(move || event.wait_timeout(DEADLINE))
    };
    let condition_waiter = {
        let condition = condition.clone();
        std::thread::spawn(move || -> Result<bool, manager::Error> {
            condition.acquire()?;
            let notified = condition.wait_timeout(DEADLINE)?;
            condition.release()?;
            Ok(notified)
        })
    };
    wait_until("each call waits", || {
        Ok(queue.n_waiting()? == 1 && event.n_waiting()? == 1 && condition.n_waiting()? == 1)
    })?;

    queue.put(&7)?;
    event.set()?;
    condition.acquire()?;
    assert_eq!(condition.notify_all()?, 1);
    condition.release()?;
    assert_eq!(getter.join().expect("getter panicked")?, 7);
    assert!(event_waiter.join().expect("event waiter panicked")?);
    assert!(
        condition_waiter
            .join()
            .expect("condition waiter panicked")?
    );
    assert_eq!(
        (
            queue.n_waiting()?,
            event.n_waiting()?,
            condition.n_waiting()?
        ),
        (0, 0, 0)
    );
    Ok(())
}

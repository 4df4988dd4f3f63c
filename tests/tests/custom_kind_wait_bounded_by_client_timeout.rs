//! A custom request that waits (`CustomType::wait_mut`) is bounded by its
//! handle's timeout, as a built-in wait is: a `Take` that would wait for
//! ever on an empty slot is ended by the manager at the client's timeout,
//! answered as a wait that ended, and leaves no waiter behind.

use std::time::{Duration, Instant};

use manager::Manager;
use manager::kind::Wait;
use tests::DEADLINE;
use tests::custom::{Slot, SlotReply, SlotRequest, SlotState};

#[test]
fn a_waiting_custom_request_ends_at_the_handles_timeout() -> anyhow::Result<()> {
    let manager = Manager::builder().register_kind::<SlotState>().start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let slot = client.custom::<Slot>("slot", &())?;

    let short = Duration::from_millis(200);
    let started = Instant::now();
    let reply = slot
        .with_timeout(short)
        .call(SlotRequest::Take(Wait::Forever))?;
    assert_eq!(reply, SlotReply::Item(None), "the manager ended the wait");
    assert!(started.elapsed() >= short, "{:?}", started.elapsed());
    assert!(started.elapsed() < DEADLINE);
    assert_eq!(slot.call(SlotRequest::Waiting)?, SlotReply::Waiting(0));

    // The slot goes on.
    slot.call(SlotRequest::Put(1))?;
    assert_eq!(
        slot.call(SlotRequest::Take(Wait::No))?,
        SlotReply::Item(Some(1))
    );
    Ok(())
}

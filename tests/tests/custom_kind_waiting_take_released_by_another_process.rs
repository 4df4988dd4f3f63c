//! A custom kind written against `ObjectState` parks a request and answers
//! it when another process's request arrives: a worker blocks in the
//! slot's `Take` until this process puts an item.

use manager::Manager;
use tests::custom::{Slot, SlotReply, SlotRequest, SlotState};
use tests::{DEADLINE, SHARED, wait_until, worker_program};

#[test]
fn a_worker_waiting_in_a_custom_take_gets_the_item_put_later() -> anyhow::Result<()> {
    let manager = Manager::builder().register_kind::<SlotState>().start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let ns = client.namespace(SHARED)?;
    let slot = client.custom::<Slot>("slot", &())?;
    let mut taker =
        manager
            .launcher()
            .spawn_program(worker_program!(), "slot_take", &"slot".to_owned())?;

    // The worker's take is parked in the manager, not answered.
    wait_until("the worker's take waits", || {
        Ok(slot.call(SlotRequest::Waiting)? == SlotReply::Waiting(1))
    })?;
    assert!(!ns.contains("slot-took")?);

    assert_eq!(slot.call(SlotRequest::Put(42))?, SlotReply::Done);
    taker.join_timeout(DEADLINE)?;
    assert_eq!(ns.get::<u64>("slot-took")?, 42);
    // Handed over, not kept.
    assert_eq!(slot.call(SlotRequest::Waiting)?, SlotReply::Waiting(0));
    assert_eq!(
        slot.call(SlotRequest::Take(manager::kind::Wait::No))?,
        SlotReply::Item(None)
    );
    Ok(())
}

//! A custom kind drops the parked requests of a connection that closes
//! (`ObjectState::connection_closed`): a worker SIGKILLed while it waits
//! in the slot's `Take` leaves no waiter behind, and the next item goes to
//! a live taker, not to the dead one.

use manager::Manager;
use manager::kind::Wait;
use tests::custom::{Slot, SlotReply, SlotRequest, SlotState};
use tests::{DEADLINE, wait_until, worker_program};

#[test]
fn a_killed_waiters_take_is_dropped_and_the_slot_stays_usable() -> anyhow::Result<()> {
    let manager = Manager::builder().register_kind::<SlotState>().start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let slot = client.custom::<Slot>("slot", &())?;
    let mut taker =
        manager
            .launcher()
            .spawn_program(worker_program!(), "slot_take", &"slot".to_owned())?;
    wait_until("the worker's take waits", || {
        Ok(slot.call(SlotRequest::Waiting)? == SlotReply::Waiting(1))
    })?;

    taker.kill()?;
    wait_until("the dead worker's take is dropped", || {
        Ok(slot.call(SlotRequest::Waiting)? == SlotReply::Waiting(0))
    })?;

    assert_eq!(slot.call(SlotRequest::Put(7))?, SlotReply::Done);
    assert_eq!(
        slot.call(SlotRequest::Take(Wait::Forever))?,
        SlotReply::Item(Some(7)),
        "the item was kept for a live taker"
    );
    Ok(())
}

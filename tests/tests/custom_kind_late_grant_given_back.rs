//! What a custom request took is given back when its reply comes after
//! its caller gave up, as a built-in grant is: the client asks the type
//! (`CustomType::may_take`, `CustomType::undo_for`) and sends the request
//! that gives it back. A slot's item handed to a take that was dropped
//! unread goes back to the front of the slot, not lost.

use std::future::Future;
use std::task::Poll;

use manager::Manager;
use manager::kind::Wait;
use tests::custom::{Slot, SlotReply, SlotRequest, SlotState};
use tests::{DEADLINE, wait_until};

#[test]
fn an_item_handed_to_a_dropped_custom_take_goes_back() -> anyhow::Result<()> {
    let manager = Manager::builder().register_kind::<SlotState>().start()?;
    let observer = manager.connect()?.with_timeout(DEADLINE);
    let slot = observer.custom::<Slot>("slot", &())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        let taker = client.lookup_custom::<Slot>("slot").await?;
        let mut take = Box::pin(taker.call(SlotRequest::Take(Wait::Forever)));
        // Polled once: the request is sent.
        let first = std::future::poll_fn(|cx| Poll::Ready(take.as_mut().poll(cx)));
        assert!(first.await.is_pending());
        let parked = tokio::task::spawn_blocking({
            let slot = slot.clone();
            move || {
                wait_until("the take waits", || {
                    Ok(slot.call(SlotRequest::Waiting)? == SlotReply::Waiting(1))
                })?;
                // Handed to the waiting take.
                slot.call(SlotRequest::Put(7))?;
                anyhow::Ok(slot.call(SlotRequest::Put(8))?)
            }
        });
        assert_eq!(parked.await??, SlotReply::Done);
        // The reply reaches the call's channel: its waiter is gone.
        tokio::time::timeout(DEADLINE, async {
            while client.connection().waiting() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await?;
        // Dropped unread: the item goes back.
        drop(take);
        anyhow::Ok(())
    })?;
    wait_until("the item is back", || {
        let snapshot = observer.inspect()?;
        Ok(snapshot
            .object("slot")
            .and_then(|o| o.detail.as_ref())
            .is_some_and(|d| d.size == manager::kind::KindDetail::Items { len: 2 }))
    })?;
    assert_eq!(
        slot.call(SlotRequest::Take(Wait::No))?,
        SlotReply::Item(Some(7)),
        "the returned item is at the front"
    );
    assert_eq!(
        slot.call(SlotRequest::Take(Wait::No))?,
        SlotReply::Item(Some(8))
    );
    Ok(())
}

//! An async `get_many` whose future is dropped (a `tokio::time::timeout`)
//! while the manager is busy (a [`Gate`] holds its one thread) is granted
//! once the manager goes on; the client gives every item back, large ones
//! too (a `ReturnMany` frame far larger than a socket buffer), exactly
//! once, while the client makes no further call. Holds.

use std::time::Duration;

use manager::Manager;
use tests::gate::{self, Gate};
use tests::{DEADLINE, wait_until};

const ITEMS: usize = 16;

fn item(n: usize) -> Vec<u8> {
    vec![n as u8; 64 * 1024]
}

#[test]
fn a_dropped_bulk_take_in_a_busy_manager_is_given_back_once() -> anyhow::Result<()> {
    let _turn = gate::take_turn();
    let manager = Manager::builder().threads(1).register::<Gate>().start()?;
    let holder_client = manager.connect()?.with_timeout(DEADLINE);
    let observer = manager.connect()?.with_timeout(DEADLINE);
    let gate = holder_client.custom::<Gate>("gate", &())?;
    let big = observer.queue::<Vec<u8>>("big", None)?;
    let items: Vec<Vec<u8>> = (0..ITEMS).map(item).collect();
    assert_eq!(big.put_many(&items)?, ITEMS);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let client = rt.block_on(manager.connect_async())?;
    let queue = rt.block_on(client.queue::<Vec<u8>>("big", None))?;

    let holder = gate::hold(gate);
    let gave_up = rt.block_on(async {
        tokio::time::timeout(Duration::from_millis(100), queue.get_many(ITEMS)).await
    });
    assert!(gave_up.is_err(), "the take was dropped unanswered");
    gate::open();
    assert!(holder.join().expect("holder thread")?);

    wait_until("every item is back", || Ok(big.len()? == ITEMS))?;
    let mut all = big.get_many(ITEMS * 2)?;
    all.sort();
    assert_eq!(all, items, "every item exactly once");
    Ok(())
}

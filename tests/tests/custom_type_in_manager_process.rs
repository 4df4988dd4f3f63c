//! A `ManagerProcess` serves the custom types its program registers in
//! `Entries` (the child runs the same `main`), to the app and to workers.

use manager::ManagerProcess;
use tests::custom::{Inventory, InventoryInit, InventoryRequest, InventoryTake};
use tests::{DEADLINE, SHARED, worker_program};

#[test]
fn the_child_manager_serves_registered_types() -> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let store = client.custom::<Inventory>("store", &InventoryInit { cap: 100 })?;
    let stock = InventoryRequest::Stock {
        item: "gear".into(),
        count: 5,
    };
    assert_eq!(store.call(stock)?, Ok(5));

    let args = InventoryTake {
        name: "store".into(),
        item: "gear".into(),
        tries: 3,
    };
    let mut worker =
        manager
            .launcher()
            .spawn_program(worker_program!(), "inventory_take", &args)?;
    worker.join_timeout(DEADLINE)?;
    assert_eq!(client.namespace(SHARED)?.get::<i64>("taken")?, 3);
    let count = InventoryRequest::Count {
        item: "gear".into(),
    };
    assert_eq!(store.call(count)?, Ok(2));
    manager.shutdown()?;
    Ok(())
}

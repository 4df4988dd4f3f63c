//! An application's own object type (Python's `BaseManager.register`):
//! the main process creates an inventory, worker processes find it by name
//! and take from it at once. Each request runs whole on the manager, so
//! the stock is never oversold: exactly what was stocked is taken.

use manager::inspect::KindDetail;
use manager::{Manager, ObjectKind, TypeName};
use tests::custom::{Inventory, InventoryError, InventoryInit, InventoryRequest, InventoryTake};
use tests::{DEADLINE, SHARED, run_workers, worker_program};

#[test]
fn workers_take_exactly_what_was_stocked() -> anyhow::Result<()> {
    let manager = Manager::builder().register::<Inventory>().start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let store = client.custom::<Inventory>("store", &InventoryInit { cap: 1_000 })?;
    let stock = |count| InventoryRequest::Stock {
        item: "bolt".into(),
        count,
    };
    assert_eq!(store.call(stock(300))?, Ok(300));
    assert_eq!(
        store.call(stock(800))?,
        Err(InventoryError::OverCap { cap: 1_000 }),
        "a typed refusal of the type's own"
    );

    // Three workers race to take 200 each, one at a time: 600 tries for
    // 300 bolts.
    let args = InventoryTake {
        name: "store".into(),
        item: "bolt".into(),
        tries: 200,
    };
    run_workers(&manager, worker_program!(), "inventory_take", vec![args; 3])?;

    let taken: i64 = client.namespace(SHARED)?.get("taken")?;
    assert_eq!(taken, 300, "every bolt taken once, none oversold");
    let count = InventoryRequest::Count {
        item: "bolt".into(),
    };
    assert_eq!(store.call(count)?, Ok(0));

    // The registry lists it under its type name, like any other object.
    let info = client.lookup("store")?;
    assert_eq!(
        info.kind,
        ObjectKind::Custom(TypeName::new("tests.inventory")?)
    );
    let row = client
        .objects()?
        .into_iter()
        .find(|o| o.name.as_str() == "store")
        .expect("store is listed");
    assert!(row.messages_handled >= 300, "{row:?}");

    // Inspection shows its size, as the type reports it (one item kind).
    let snapshot = client.inspect()?;
    let report = snapshot.object("store").expect("store is inspected");
    let detail = report.detail.as_ref().expect("the actor answered");
    assert_eq!(detail.size, KindDetail::Items { len: 1 });
    Ok(())
}

#[tokio::test]
async fn the_async_proxy_sees_the_same_object() -> anyhow::Result<()> {
    let manager = Manager::builder().register::<Inventory>().start()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let a = client
        .custom::<Inventory>("shelf", &InventoryInit { cap: 10 })
        .await?;
    // Creation parameters apply only the first time.
    let b = client
        .custom::<Inventory>("shelf", &InventoryInit { cap: 99 })
        .await?;
    assert_eq!(a.id(), b.id());
    let stock = InventoryRequest::Stock {
        item: "nut".into(),
        count: 4,
    };
    assert_eq!(a.call(stock).await?, Ok(4));
    let found = client.lookup_custom::<Inventory>("shelf").await?;
    assert_eq!(found.call(InventoryRequest::Total).await?, Ok(4));
    let too_many = InventoryRequest::Stock {
        item: "nut".into(),
        count: 7,
    };
    assert_eq!(
        b.call(too_many).await?,
        Err(InventoryError::OverCap { cap: 10 })
    );
    Ok(())
}

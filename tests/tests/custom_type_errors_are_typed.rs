//! What goes wrong with custom object types is a typed error for that one
//! request: an unregistered type, parameters the type refuses, a name of
//! another kind, a client whose type has the same name but other request
//! types, and a panic in the type's code, which poisons that one object
//! while the manager and every other object go on.

use manager::{Error, Manager, ManagerError};
use tests::DEADLINE;
use tests::custom::{ImpostorInventory, Inventory, InventoryInit, InventoryRequest, Lease};

fn manager() -> anyhow::Result<Manager> {
    Ok(Manager::builder()
        .register::<Inventory>()
        .register::<Lease>()
        .start()?)
}

#[test]
fn an_unregistered_type_names_the_registered_ones() -> anyhow::Result<()> {
    let manager = Manager::builder().register::<Lease>().start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    match client.custom::<Inventory>("store", &InventoryInit { cap: 1 }) {
        Err(Error::Manager(ManagerError::UnknownType {
            type_name,
            registered,
        })) => {
            assert_eq!(type_name, "tests.inventory");
            assert_eq!(registered, ["tests.lease"]);
        }
        other => panic!("expected UnknownType, got {other:?}"),
    }
    assert!(client.objects()?.is_empty(), "nothing was created");
    Ok(())
}

#[test]
fn refused_parameters_and_kind_mismatches() -> anyhow::Result<()> {
    let manager = manager()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    match client.custom::<Inventory>("store", &InventoryInit { cap: 0 }) {
        Err(Error::Manager(ManagerError::CreateFailed { object, reason })) => {
            assert_eq!(object, "tests.inventory `store`");
            assert!(reason.contains("cap above 0"), "{reason}");
        }
        other => panic!("expected CreateFailed, got {other:?}"),
    }
    assert!(
        client.objects()?.is_empty(),
        "a refused create leaves nothing"
    );

    client.namespace("config")?;
    let err = client
        .custom::<Inventory>("config", &InventoryInit { cap: 1 })
        .unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::KindMismatch { .. })),
        "{err:?}"
    );
    client.custom::<Inventory>("store", &InventoryInit { cap: 5 })?;
    let err = client.lookup_custom::<Lease>("store").unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::KindMismatch { .. })),
        "{err:?}"
    );
    let err = client.lookup_custom::<Inventory>("absent").unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::NoSuchObject { .. })),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn a_request_of_another_type_is_refused_and_harms_nothing() -> anyhow::Result<()> {
    let manager = manager()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let store = client.custom::<Inventory>("store", &InventoryInit { cap: 5 })?;
    let stock = InventoryRequest::Stock {
        item: "bolt".into(),
        count: 2,
    };
    assert_eq!(store.call(stock)?, Ok(2));
    let impostor = client.lookup_custom::<ImpostorInventory>("store")?;
    match impostor.call("stock 2 bolts".into()) {
        Err(Error::Manager(ManagerError::WrongType { stored, .. })) => {
            assert!(stored.contains("String"), "{stored}");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert_eq!(store.call(InventoryRequest::Total)?, Ok(2));
    Ok(())
}

#[test]
fn a_panic_poisons_only_that_object() -> anyhow::Result<()> {
    let manager = manager()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let broken = client.custom::<Inventory>("broken", &InventoryInit { cap: 5 })?;
    let healthy = client.custom::<Inventory>("healthy", &InventoryInit { cap: 5 })?;
    let ns = client.namespace("ns")?;

    match broken.call(InventoryRequest::Panic) {
        Err(Error::Manager(ManagerError::Panicked {
            object,
            message,
            earlier: false,
        })) => {
            assert_eq!(object, "tests.inventory `broken`");
            assert_eq!(message, "inventory told to panic");
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
    match broken.call(InventoryRequest::Total) {
        Err(Error::Manager(ManagerError::Panicked { earlier: true, .. })) => {}
        other => panic!("expected Panicked earlier, got {other:?}"),
    }
    let stock = InventoryRequest::Stock {
        item: "bolt".into(),
        count: 1,
    };
    assert_eq!(healthy.call(stock)?, Ok(1), "another object goes on");
    assert_eq!(ns.add("x", 1)?, 1, "the manager goes on");
    // A poisoned object can be removed and made again.
    assert!(client.remove("broken")?);
    let again = client.custom::<Inventory>("broken", &InventoryInit { cap: 5 })?;
    assert_eq!(again.call(InventoryRequest::Total)?, Ok(0));
    Ok(())
}

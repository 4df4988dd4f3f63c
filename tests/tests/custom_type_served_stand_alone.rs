//! A stand-alone server built with `server_main_with` serves the custom
//! types it registers to any process that has the address and key.

mod server_support;

use manager::{AuthKey, blocking};
use server_support::{Proc, server_with_key};
use tests::DEADLINE;
use tests::custom::{Inventory, InventoryInit, InventoryRequest};

#[test]
fn a_server_binary_of_our_own_serves_our_types() -> anyhow::Result<()> {
    let key = AuthKey::random()?;
    let (_server, address) = Proc::start_server(server_with_key(&["--tcp", "127.0.0.1:0"], &key))?;
    let first = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
    let store = first.custom::<Inventory>("store", &InventoryInit { cap: 10 })?;
    let stock = InventoryRequest::Stock {
        item: "cog".into(),
        count: 6,
    };
    assert_eq!(store.call(stock)?, Ok(6));

    let second = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
    let found = second.lookup_custom::<Inventory>("store")?;
    let take = InventoryRequest::Take {
        item: "cog".into(),
        count: 4,
    };
    assert_eq!(found.call(take)?, Ok(2));
    assert_eq!(store.call(InventoryRequest::Total)?, Ok(2));
    Ok(())
}

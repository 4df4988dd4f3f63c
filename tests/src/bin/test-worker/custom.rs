//! Worker entries for the tests of custom object types, and the types
//! this program's manager serves when a test starts it as a
//! `ManagerProcess`.

use std::time::Duration;

use anyhow::{Context, ensure};
use manager::blocking;
use manager::kind::Wait;
use manager::launcher::Entries;
use tests::custom::{
    EnvProbe, Inventory, InventoryError, InventoryRequest, InventoryTake, Lease, LeaseRequest,
    Slot, SlotReply, SlotRequest, SlotState,
};
use tests::{DEADLINE, SHARED};

/// Adds this family's entries and types.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .register::<Inventory>()
        .register::<Lease>()
        .register::<EnvProbe>()
        .register_kind::<SlotState>()
        .entry("inventory_take", inventory_take)
        .entry("lease_take_and_park", lease_take_and_park)
        .entry("slot_take", slot_take)
}

fn client() -> anyhow::Result<blocking::Client> {
    Ok(blocking::Client::from_env()
        .context("connect from the environment")?
        .with_timeout(DEADLINE))
}

/// Finds an existing inventory by name and takes one item at a time until
/// it runs out or `tries` runs out; adds how many it got to `taken` in the
/// shared namespace.
fn inventory_take(args: InventoryTake) -> anyhow::Result<()> {
    let client = client()?;
    let inventory = client.lookup_custom::<Inventory>(&args.name)?;
    let mut got = 0_u64;
    for _ in 0..args.tries {
        let take = InventoryRequest::Take {
            item: args.item.clone(),
            count: 1,
        };
        match inventory.call(take)? {
            Ok(_) => got += 1,
            Err(InventoryError::Short { have }) => {
                ensure!(have == 0, "short with {have} left");
                break;
            }
            Err(other) => anyhow::bail!("unexpected refusal {other:?}"),
        }
    }
    client
        .namespace(SHARED)?
        .add("taken", i64::try_from(got)?)?;
    Ok(())
}

/// Takes the lease `name`, announces its pid in the shared namespace as
/// `lease-holder`, then parks until killed.
fn lease_take_and_park(name: String) -> anyhow::Result<()> {
    let client = client()?;
    let lease = client.custom::<Lease>(&name, &())?;
    ensure!(lease.call(LeaseRequest::Take)?, "the lease was free");
    client
        .namespace(SHARED)?
        .set("lease-holder", &std::process::id())?;
    loop {
        std::thread::park_timeout(Duration::from_secs(3600));
    }
}

/// Takes an item from the slot `name`, waiting for one (at most
/// [`DEADLINE`], its client's timeout), and sets `slot-took` in the shared
/// namespace to it.
fn slot_take(name: String) -> anyhow::Result<()> {
    let client = client()?;
    let slot = client.lookup_custom::<Slot>(&name)?;
    let SlotReply::Item(item) = slot.call(SlotRequest::Take(Wait::Forever))? else {
        anyhow::bail!("a take answered something else");
    };
    let item = item.context("the wait ended without an item")?;
    client.namespace(SHARED)?.set("slot-took", &item)?;
    Ok(())
}

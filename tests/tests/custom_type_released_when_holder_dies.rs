//! A custom type learns when a client's connection closes
//! (`CustomObject::connection_closed`), so what a killed worker held in it
//! comes back: a lease taken by a worker that is SIGKILLed becomes free.

use manager::Manager;
use tests::custom::{Lease, LeaseRequest};
use tests::{DEADLINE, SHARED, wait_until, worker_program};

#[test]
fn a_killed_holder_frees_the_lease() -> anyhow::Result<()> {
    let manager = Manager::builder().register::<Lease>().start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let ns = client.namespace(SHARED)?;
    let mut holder = manager.launcher().spawn_program(
        worker_program!(),
        "lease_take_and_park",
        &"lease".to_owned(),
    )?;
    wait_until("the worker holds the lease", || {
        ns.contains("lease-holder").map_err(Into::into)
    })?;
    assert_eq!(ns.get::<u32>("lease-holder")?, holder.pid());

    let lease = client.lookup_custom::<Lease>("lease")?;
    assert!(lease.call(LeaseRequest::IsHeld)?);
    assert!(!lease.call(LeaseRequest::Take)?, "the worker holds it");

    holder.kill()?;
    wait_until("the lease is free", || {
        Ok(!lease.call(LeaseRequest::IsHeld)?)
    })?;
    assert!(lease.call(LeaseRequest::Take)?, "now it is ours");
    Ok(())
}

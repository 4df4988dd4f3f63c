//! The worker program the integration tests launch: one entry per role a
//! worker plays in a test. Entries for the namespace and the launcher live
//! here; those of each object family in a module named for it. Each entry connects with
//! `blocking::Client::from_env()` and returns an error (exit code 1) if
//! anything is not as the test expects.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use manager::launcher::Entries;
use manager::{Error, ManagerError, blocking};
use tests::{Add, DEADLINE, SHARED, SetAndRead};

mod asynchronous;
mod containers;
mod custom;
mod inspect;
mod locks;
mod pool;
mod queues;
mod server;
mod shared;
mod shared_memory;

fn main() {
    let entries = Entries::new();
    let entries = containers::register(entries);
    let entries = custom::register(entries);
    let entries = queues::register(entries);
    let entries = locks::register(entries);
    let entries = server::register(entries);
    let entries = pool::register(entries);
    let entries = inspect::register(entries);
    let entries = shared::register(entries);
    let entries = shared_memory::register(entries);
    let entries = asynchronous::register(entries);
    entries
        .entry("set_and_read", set_and_read)
        .entry("add", add)
        .entry("add_until_stopped", add_until_stopped)
        .entry("call_until_disconnected", call_until_disconnected)
        .entry("fail", |message: String| -> anyhow::Result<()> {
            bail!(message)
        })
        .entry("panic", |message: String| -> anyhow::Result<()> {
            panic!("{message}")
        })
        .entry("takes_u64", |value: u64| record_ran("takes_u64", value))
        .entry("takes_u32", |value: u32| {
            record_ran("takes_u32", u64::from(value))
        })
        .entry("spawn_and_park", spawn_and_park)
        .entry("park", park)
        .entry("check_errors", check_errors)
        .entry("serve", serve)
        .run()
}

fn client() -> anyhow::Result<blocking::Client> {
    Ok(blocking::Client::from_env()
        .context("connect from the environment")?
        .with_timeout(DEADLINE))
}

/// The async client of this worker, from the environment its launcher
/// set, whose calls fail after `timeout`.
async fn async_client(timeout: Duration) -> anyhow::Result<manager::Client> {
    Ok(manager::Client::from_env()
        .await
        .context("connect from the environment")?
        .with_timeout(timeout))
}

/// Reads what the main process set, then writes `count` attributes of its own.
fn set_and_read(args: SetAndRead) -> anyhow::Result<()> {
    let ns = client()?.namespace(SHARED)?;
    for (attribute, value) in &args.expected {
        let got: i64 = ns.get(attribute)?;
        ensure!(got == *value, "{attribute}: read {got}, expected {value}");
    }
    for k in 0..args.count {
        let attribute = format!("w{}-{k}", args.index);
        ns.set(
            &attribute,
            &(i64::from(args.index) * 1_000_000 + i64::from(k)),
        )?;
        // Read back our own write at once: ordering per connection.
        let back: i64 = ns.get(&attribute)?;
        ensure!(
            back == i64::from(args.index) * 1_000_000 + i64::from(k),
            "{attribute} read back {back}"
        );
    }
    Ok(())
}

/// Adds 1 to an attribute, `times` times.
fn add(args: Add) -> anyhow::Result<()> {
    let ns = client()?.namespace(SHARED)?;
    for _ in 0..args.times {
        ns.add(&args.attribute, 1)?;
    }
    Ok(())
}

/// Adds 1 to `total` and to its own counter until `stop` is set.
fn add_until_stopped(index: u32) -> anyhow::Result<()> {
    let ns = client()?.namespace(SHARED)?;
    let own = format!("count-{index}");
    while !ns.contains("stop")? {
        ns.add(&own, 1)?;
        ns.add("total", 1)?;
    }
    Ok(())
}

/// Announces itself, then calls until the manager goes away; succeeds only
/// if that shows as `Error::ManagerGone`.
fn call_until_disconnected(_: ()) -> anyhow::Result<()> {
    let ns = client()?.namespace(SHARED)?;
    ns.set(&format!("ready-{}", std::process::id()), &true)?;
    loop {
        match ns.add("calls", 1) {
            Ok(_) => {}
            Err(Error::ManagerGone { .. }) => return Ok(()),
            Err(e) => bail!("expected ManagerGone, got: {e}"),
        }
    }
}

/// Records in the shared namespace that entry `name` ran with `value`.
fn record_ran(name: &str, value: u64) -> anyhow::Result<()> {
    client()?
        .namespace(SHARED)?
        .set(&format!("ran-{name}"), &value)?;
    Ok(())
}

/// Launches a `park` worker from its own program (the re-exec path),
/// publishes its pid, and parks until killed.
fn spawn_and_park(_: ()) -> anyhow::Result<()> {
    let client = client()?;
    let ns = client.namespace(SHARED)?;
    let launcher = manager::launcher::Launcher::new(client.address().clone(), authkey_from_env()?);
    let child = launcher.spawn("park", &())?;
    ns.set("grandchild", &child.pid())?;
    // The child is meant to outlive this function only until this process is
    // killed; keep its handle from killing it.
    std::mem::forget(child);
    loop {
        std::thread::park();
    }
}

fn authkey_from_env() -> anyhow::Result<manager::AuthKey> {
    let hex = std::env::var(manager::launcher::ENV_AUTHKEY)?;
    Ok(manager::AuthKey::from_hex(&hex)?)
}

/// Connects, says so, and parks until killed.
fn park(_: ()) -> anyhow::Result<()> {
    let ns = client()?.namespace(SHARED)?;
    ns.set(&format!("parked-{}", std::process::id()), &true)?;
    loop {
        std::thread::park_timeout(Duration::from_secs(3600));
    }
}

/// Checks from a worker process that each misuse is a typed error for that
/// call only.
fn check_errors(_: ()) -> anyhow::Result<()> {
    let client = client()?;
    let ns = client.namespace(SHARED)?;
    match ns.get::<i64>("never-set") {
        Err(Error::Manager(ManagerError::NoSuchAttribute { attribute, .. }))
            if attribute == "never-set" => {}
        other => bail!("unknown attribute: expected NoSuchAttribute, got {other:?}"),
    }
    match ns.get::<i64>("text") {
        Err(Error::Manager(ManagerError::WrongType {
            stored, requested, ..
        })) if stored.contains("String") && requested == "i64" => {}
        other => bail!("wrong type: expected WrongType, got {other:?}"),
    }
    ensure!(
        ns.get::<String>("text")? == "hello",
        "the connection is still fine afterwards"
    );
    Ok(())
}

/// Runs a manager of its own on `socket` with the hex `key`, until killed;
/// lets a test stop and continue the manager's whole process.
fn serve((socket, key): (String, String)) -> anyhow::Result<()> {
    let _manager = manager::Manager::builder()
        .unix(socket)
        .authkey(manager::AuthKey::from_hex(&key)?)
        .start()?;
    loop {
        std::thread::park();
    }
}

//! Worker entries for the tests of the stand-alone server and
//! `ManagerProcess` (`tests/server_*.rs`).

use anyhow::{Context, bail, ensure};
use manager_ipc::launcher::{ENV_ADDRESS, ENV_AUTHKEY, Entries};
use manager_ipc::{Address, AuthKey, ManagerProcess, blocking};
use tests::{DEADLINE, SHARED};

use crate::client;

/// Where `server_client` finds the server's address (its own variable, not
/// the launcher's `MANAGER_ADDRESS`).
const ENV_TEST_ADDRESS: &str = "SERVER_TEST_ADDRESS";
/// Where `server_client` finds the authkey, in hex.
const ENV_TEST_AUTHKEY: &str = "SERVER_TEST_AUTHKEY";

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .entry("server_client", server_client)
        .entry("start_manager_process", start_manager_process)
}

/// A process nobody's launcher started: connects with an address and key it
/// was given in variables of the test's own naming, takes jobs (ending at a
/// negative one) from the queue `jobs` and records each in a dict, a list,
/// a value and, under a lock, a namespace; then sets the event `finished`.
fn server_client(_: ()) -> anyhow::Result<()> {
    for launcher_var in [ENV_ADDRESS, ENV_AUTHKEY] {
        ensure!(
            std::env::var_os(launcher_var).is_none(),
            "{launcher_var} is set: this client must not have a launcher's environment"
        );
    }
    let address: Address = std::env::var(ENV_TEST_ADDRESS)
        .context(ENV_TEST_ADDRESS)?
        .parse()?;
    let key = AuthKey::from_hex(&std::env::var(ENV_TEST_AUTHKEY).context(ENV_TEST_AUTHKEY)?)?;
    let client = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);

    let jobs = client.queue::<i64>("jobs", None)?;
    let squares = client.dict::<i64, i64>("squares")?;
    let done = client.list::<i64>("done")?;
    let total = client.value("total", &0_i64)?;
    let lock = client.lock("lock")?;
    let stats = client.namespace("stats")?;
    loop {
        let n = jobs.get_timeout(DEADLINE)?;
        if n < 0 {
            break;
        }
        squares.insert(&n, &(n * n))?;
        done.append(&n)?;
        total.add(n)?;
        let _guard = lock.lock()?;
        let seen = stats.try_get::<i64>("jobs")?.unwrap_or(0);
        stats.set("jobs", &(seen + 1))?;
    }
    client.event("finished")?.set()?;
    Ok(())
}

/// Starts a `ManagerProcess` (this program, re-executed), proves it serves,
/// publishes its pid and socket path in the launching manager's `shared`
/// namespace, and parks until killed.
fn start_manager_process(_: ()) -> anyhow::Result<()> {
    let ns = client()?.namespace(SHARED)?;
    let manager = ManagerProcess::start()?;
    let Address::Unix(socket) = manager.address().clone() else {
        bail!("expected a Unix socket, got {}", manager.address());
    };
    let own = manager.connect()?.with_timeout(DEADLINE);
    ensure!(own.namespace("own")?.add("n", 1)? == 1, "a fresh manager");
    ns.set("manager_socket", &socket.display().to_string())?;
    ns.set("manager_pid", &manager.pid())?;
    loop {
        std::thread::park();
    }
}

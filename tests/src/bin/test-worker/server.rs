//! Worker entries for the tests of the stand-alone server and
//! `ManagerProcess` (`tests/server_*.rs`).

use anyhow::{Context, bail, ensure};
use manager::launcher::{ENV_ADDRESS, ENV_AUTHKEY, Entries};
use manager::{Address, AuthKey, ManagerProcess, blocking};
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
/// was given in variables of the test's own naming and uses one object of
/// every built-in kind, in step with the test
/// (`tests/server_serves_processes_it_did_not_launch.rs`, which prepared
/// them):
///
/// 1. takes jobs (ending at a negative one) from the queue `jobs` and
///    records each in the dict `squares`, the list `done`, the value
///    `total`, the set `seen`, the array `slots` and, under the lock
///    `lock`, the namespace `stats`;
/// 2. takes every item of the joinable queue `work`, marking each done, and
///    releases two units of the semaphore `permits` (which had none);
/// 3. meets the test at the barrier `meet` (2 parties) and records its
///    arrival index;
/// 4. waits for the one unit of the bounded semaphore `single`, which the
///    test holds until the barrier, then gives it back;
/// 5. takes the re-entrant lock `rlock` twice, says so through the
///    condition `cond`, and holds it until the test sets the event
///    `release_rlock`;
/// 6. releases `rlock` fully and sets the event `finished`.
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
    let stats = client.namespace("stats")?;

    // 1. Containers and the lock.
    let jobs = client.queue::<i64>("jobs", None)?;
    let squares = client.dict::<i64, i64>("squares")?;
    let done = client.list::<i64>("done")?;
    let total = client.value("total", &0_i64)?;
    let seen = client.set::<i64>("seen")?;
    let slots = client.array::<i64>("slots", &[])?;
    let lock = client.lock("lock")?;
    loop {
        let n = jobs.get_timeout(DEADLINE)?;
        if n < 0 {
            break;
        }
        squares.insert(&n, &(n * n))?;
        done.append(&n)?;
        total.add(n)?;
        ensure!(seen.add(&n)?, "{n} was already in the set");
        slots.set(n - 1, &(n * 10))?;
        let _guard = lock.lock()?;
        let count = stats.try_get::<i64>("jobs")?.unwrap_or(0);
        stats.set("jobs", &(count + 1))?;
    }

    // 2. Work items marked done; units released for the test to take.
    let work = client.joinable_queue::<String>("work", None)?;
    while let Some(item) = work.try_get()? {
        done_work(&stats, &item)?;
        work.task_done()?;
    }
    client.semaphore("permits", 0)?.release_n(2)?;

    // 3. The rendezvous.
    let index = client.barrier("meet", 2)?.wait_timeout(DEADLINE)?;
    stats.set("barrier_index", &index)?;

    // 4. The test's unit, handed over.
    let single = client.bounded_semaphore("single", 1)?;
    ensure!(
        single.acquire_timeout(DEADLINE)?,
        "the test never released `single`"
    );
    stats.set("single_taken", &true)?;
    single.release()?;

    // 5. Hold the re-entrant lock, twice, until told to let go.
    let rlock = client.rlock("rlock")?;
    rlock.acquire()?;
    ensure!(rlock.try_acquire()?, "an rlock is re-entrant for its owner");
    let cond = client.condition("cond")?;
    {
        let _guard = cond.guard()?;
        stats.set("rlock_held", &true)?;
        cond.notify_all()?;
    }
    ensure!(
        client.event("release_rlock")?.wait_timeout(DEADLINE)?,
        "the test never set `release_rlock`"
    );
    // 6. Both levels, then done.
    rlock.release()?;
    rlock.release()?;
    client.event("finished")?.set()?;
    Ok(())
}

/// Records a work item taken from the joinable queue.
fn done_work(stats: &blocking::Namespace, item: &str) -> anyhow::Result<()> {
    let mut list = stats.try_get::<Vec<String>>("work")?.unwrap_or_default();
    list.push(item.to_owned());
    stats.set("work", &list)?;
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

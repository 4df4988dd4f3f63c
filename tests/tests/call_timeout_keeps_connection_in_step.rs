//! A call that times out or is cancelled never desynchronises the
//! connection: later calls get their own replies, never a stale one.

use std::time::Duration;

use manager::launcher::Launcher;
use manager::{Address, AuthKey, Error, blocking};
use tests::{DEADLINE, start_manager, wait_until, worker_program};

/// Sends SIGSTOP or SIGCONT to `pid`.
fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .status()?;
    anyhow::ensure!(status.success(), "kill {signal} {pid} failed");
    Ok(())
}

/// Whether every thread of process `pid` is stopped (state `T`).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state == "T" || state == "t")
        })
    })
}

#[test]
fn timed_out_calls_leave_later_replies_in_step() -> anyhow::Result<()> {
    // The manager runs in a process of its own so the test can freeze it.
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("frozen.sock");
    let key = AuthKey::random()?;
    let launcher = Launcher::new(Address::Unix(socket.clone()), key.clone());
    let args = (socket.to_string_lossy().into_owned(), key.to_hex());
    let mut server = launcher.spawn_program(worker_program!(), "serve", &args)?;
    let mut client = None;
    wait_until("the manager process listens", || {
        client = blocking::Client::connect(&Address::Unix(socket.clone()), &key).ok();
        Ok(client.is_some())
    })?;
    let ns = client
        .expect("connected")
        .with_timeout(DEADLINE)
        .namespace("ns")?;
    for i in 0..10_i64 {
        ns.set(&format!("k{i}"), &i)?;
    }

    signal(server.pid(), "-STOP")?;
    // The signal takes effect asynchronously: wait until every thread of
    // the manager's process has stopped.
    let pid = server.pid();
    wait_until("the manager process is stopped", || {
        Ok(all_threads_stopped(pid))
    })?;
    let hurried = ns.with_timeout(Duration::from_millis(100));
    for i in 0..5 {
        let err = hurried.get::<i64>(&format!("k{i}")).unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    }
    signal(server.pid(), "-CONT")?;

    // The five late replies arrive first and must be discarded.
    for i in 5..10_i64 {
        assert_eq!(ns.get::<i64>(&format!("k{i}"))?, i);
    }
    server.kill()?;
    Ok(())
}

#[test]
fn cancelled_async_calls_leave_later_replies_in_step() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        let ns = client.namespace("ns").await?;
        for i in 0..20_i64 {
            ns.set(&format!("k{i}"), &i).await?;
        }
        for round in 0..200_i64 {
            let i = round % 20;
            // Start a call and drop it half-way: it may or may not have been
            // written or answered.
            let other = format!("k{}", 19 - i);
            let dropped = ns.get::<i64>(&other);
            tokio::select! {
                biased;
                _ = tokio::task::yield_now() => {}
                _ = dropped => {}
            }
            assert_eq!(ns.get::<i64>(&format!("k{i}")).await?, i);
        }
        anyhow::Ok(())
    })?;
    Ok(())
}

#[test]
fn many_calls_in_flight_on_one_connection_each_get_their_reply() -> anyhow::Result<()> {
    many_calls_in_flight(start_manager()?)
}

#[test]
fn a_tight_in_flight_bound_slows_a_connection_without_losing_calls() -> anyhow::Result<()> {
    many_calls_in_flight(manager::Manager::builder().max_in_flight(2).start()?)
}

/// 256 tasks share one connection, each setting, reading back and adding.
fn many_calls_in_flight(manager: manager::Manager) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        let ns = client.namespace("ns").await?;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..256_i64 {
            let ns = ns.clone();
            tasks.spawn(async move {
                ns.set(&format!("k{i}"), &i).await?;
                let back: i64 = ns.get(&format!("k{i}")).await?;
                anyhow::ensure!(back == i, "k{i} read back {back}");
                anyhow::Ok(ns.add("sum", i).await?)
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        assert_eq!(ns.get::<i64>("sum").await?, (0..256).sum::<i64>());
        anyhow::Ok(())
    })?;
    Ok(())
}

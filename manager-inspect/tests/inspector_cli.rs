//! The `manager-inspect` command: `--json` prints a snapshot that parses
//! and matches the manager; tables by default; a wrong address or a wrong
//! key is one line on stderr and a non-zero exit.

use std::process::{Command, Output};

use manager::inspect::{KindDetail, ManagerSnapshot};
use manager::{Address, AuthKey, Manager};

fn inspector(address: &Address, key_hex: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_manager-inspect"));
    match address {
        Address::Unix(path) => command.arg("--unix").arg(path),
        Address::Tcp(addr) => command.arg("--tcp").arg(addr.to_string()),
    };
    command
        .args(args)
        .env("MANAGER_AUTHKEY", key_hex)
        .output()
        .expect("run manager-inspect")
}

/// A manager with a queue of 3 items, and the client that filled it (kept
/// open, so the connections are known).
fn manager_with_a_queue() -> anyhow::Result<(Manager, manager::blocking::Client)> {
    let manager = Manager::start()?;
    let client = manager.connect()?;
    let jobs = client.queue::<u32>("jobs", Some(10))?;
    for k in 0..3 {
        jobs.put(&k)?;
    }
    Ok((manager, client))
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("manager-inspect: "), "{stderr}");
    stderr
}

#[test]
fn json_snapshot_parses_and_matches() -> anyhow::Result<()> {
    let (manager, _client) = manager_with_a_queue()?;
    let key = manager.authkey().to_hex();
    let output = inspector(manager.address(), &key, &["--json"]);
    assert!(output.status.success(), "{output:?}");
    let snapshot: ManagerSnapshot = serde_json::from_slice(&output.stdout)?;
    let jobs = snapshot.object("jobs").expect("the queue is listed");
    assert_eq!(
        jobs.detail.as_ref().map(|d| &d.size),
        Some(&KindDetail::Queue {
            len: 3,
            maxsize: Some(10),
            unfinished: None,
            in_flight: 0,
        })
    );
    assert_eq!(jobs.messages_handled, 3);
    // The manager's own client and the inspector.
    assert_eq!(snapshot.totals.connections_now, 2);
    assert_eq!(snapshot.totals.protocol_version, manager::PROTOCOL_VERSION);
    assert!(snapshot.connection(snapshot.requested_by).is_some());

    // The same through a key file, as tables.
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("key");
    std::fs::write(&file, format!("{key}\n"))?;
    let file = file.to_str().expect("a UTF-8 path");
    let output = inspector(manager.address(), "", &["--authkey-file", file]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout)?;
    assert!(
        text.contains("OBJECTS") && text.contains("CLIENTS"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.contains("jobs"))
        .expect("a row for the queue");
    assert!(row.contains("3/10 items"), "{row}");
    Ok(())
}

#[test]
fn wrong_address_is_one_line_and_fails() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let address = Address::Unix(dir.path().join("nobody.sock"));
    let output = inspector(&address, &AuthKey::random()?.to_hex(), &["--json"]);
    let stderr = one_line_error(&output);
    assert!(stderr.contains("nobody.sock"), "{stderr}");
    Ok(())
}

#[test]
fn wrong_key_is_one_line_and_fails() -> anyhow::Result<()> {
    let (manager, _client) = manager_with_a_queue()?;
    let output = inspector(manager.address(), &AuthKey::random()?.to_hex(), &[]);
    let stderr = one_line_error(&output);
    assert!(stderr.contains("authentication failed"), "{stderr}");
    // And a key that is not hex says so.
    let output = inspector(manager.address(), "not hex", &[]);
    let stderr = one_line_error(&output);
    assert!(stderr.contains("MANAGER_AUTHKEY"), "{stderr}");
    Ok(())
}

/// Kills and reaps the child on drop, so a failed assertion leaves no
/// inspector running.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_redraws_the_page_as_the_manager_changes() -> anyhow::Result<()> {
    use std::io::Read as _;
    use std::time::{Duration, Instant};

    let (manager, client) = manager_with_a_queue()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_manager-inspect"));
    let Address::Unix(path) = manager.address() else {
        unreachable!("a Unix socket by default")
    };
    command
        .arg("--unix")
        .arg(path)
        .arg("--watch")
        .env("MANAGER_AUTHKEY", manager.authkey().to_hex())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = Reaped(command.spawn()?);
    let mut stdout = child.0.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0_u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| -> anyhow::Result<()> {
        while !String::from_utf8_lossy(&seen).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(bytes) => seen.extend(bytes),
                Err(_) => anyhow::bail!(
                    "no `{needle}` from --watch; got:\n{}",
                    String::from_utf8_lossy(&seen)
                ),
            }
        }
        Ok(())
    };
    wait_for("3/10 items")?;
    // The page is drawn from the top of the screen, in place.
    wait_for("\x1b[H")?;
    client.queue::<u32>("jobs", Some(10))?.put(&3)?;
    wait_for("4/10 items")?;
    assert!(
        child.0.try_wait()?.is_none(),
        "--watch keeps running until interrupted"
    );
    Ok(())
}

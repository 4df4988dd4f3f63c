//! The `manager-inspect` command: `--json` prints a snapshot that matches
//! the manager, with durations in milliseconds and times in RFC 3339;
//! tables by default; a wrong address or a wrong key is one line on stderr
//! and a non-zero exit.

use std::process::{Command, Output};

use manager::{Address, AuthKey, Manager};
use serde_json::{Value, json};

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

/// Whether `text` reads as RFC 3339 in UTC to the millisecond, as
/// `2025-01-31T09:30:00.123Z`.
fn is_rfc3339_utc(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = [0..4, 5..7, 8..10, 11..13, 14..16, 17..19, 20..23];
    b.len() == 24
        && digits
            .into_iter()
            .all(|r| b[r].iter().all(u8::is_ascii_digit))
        && [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (23, b'Z'),
        ]
        .into_iter()
        .all(|(i, c)| b[i] == c)
}

#[test]
fn json_snapshot_matches_with_milliseconds_and_rfc3339() -> anyhow::Result<()> {
    let (manager, client) = manager_with_a_queue()?;
    let key = manager.authkey().to_hex();
    let output = inspector(manager.address(), &key, &["--json"]);
    assert!(output.status.success(), "{output:?}");
    let snapshot: Value = serde_json::from_slice(&output.stdout)?;
    let jobs = snapshot["objects"]
        .as_array()
        .expect("a list of objects")
        .iter()
        .find(|o| o["name"] == "jobs")
        .expect("the queue is listed");
    assert_eq!(
        jobs["detail"]["size"],
        json!({"Queue": {"len": 3, "maxsize": 10, "unfinished": null, "in_flight": 0}})
    );
    assert_eq!(jobs["messages_handled"], 3);
    assert_eq!(jobs["mailbox"], 0);
    let totals = &snapshot["totals"];
    // The manager's own client and the inspector.
    assert_eq!(totals["connections_now"], 2);
    assert_eq!(totals["protocol_version"], manager::PROTOCOL_VERSION);
    assert_eq!(totals["errors_total"], 0);
    assert_eq!(totals["handshakes_failed"], 0);
    assert!(
        totals["rss_bytes"].as_u64().is_some_and(|n| n > 0),
        "{totals}"
    );
    let requested_by = snapshot["requested_by"].as_u64().expect("a connection id");
    assert!(
        snapshot["connections"]
            .as_array()
            .expect("a list of connections")
            .iter()
            .any(|c| c["id"] == requested_by && c["id"] != client.connection_id())
    );

    // Times are RFC 3339 in UTC; durations are milliseconds.
    let connection = &snapshot["connections"][0];
    for time in [
        &totals["taken_at"],
        &totals["started_at"],
        &jobs["created_at"],
        &jobs["last_operation"],
        &connection["connected_at"],
    ] {
        let text = time.as_str().unwrap_or_default();
        assert!(is_rfc3339_utc(text), "{time} in {snapshot:#}");
    }
    assert!(totals["taken_at"].as_str() >= totals["started_at"].as_str());
    for duration in [&totals["uptime"], &totals["rate_window"]] {
        assert!(duration.as_f64().is_some_and(|ms| ms >= 0.0), "{duration}");
    }
    // The manager has been up for less than the test has run.
    assert!(totals["uptime"].as_f64().unwrap_or(f64::MAX) < 600_000.0);

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

/// Without a terminal, `--watch` prints the plain page at every refresh.
#[test]
fn watch_without_a_terminal_prints_each_page() -> anyhow::Result<()> {
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
        .args(["--watch", "--interval", "0.2"])
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
    client.queue::<u32>("jobs", Some(10))?.put(&3)?;
    wait_for("4/10 items")?;
    assert!(
        child.0.try_wait()?.is_none(),
        "--watch keeps running until interrupted"
    );
    // Plain text: no terminal codes.
    let text = String::from_utf8_lossy(&seen);
    assert!(!text.contains('\x1b'), "{text}");
    Ok(())
}

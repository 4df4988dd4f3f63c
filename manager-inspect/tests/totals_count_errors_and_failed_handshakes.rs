//! An inspection's totals count the requests answered with an error and
//! the handshakes that failed since the manager started, and report the
//! manager's resident memory; `manager-inspect` shows all three.

use std::time::{Duration, Instant};

use manager::inspect::Totals;
use manager::{AuthKey, Manager, ManagerError};

/// Inspects until `done` holds for the totals, for at most 20 s: the
/// manager counts a reply once it is written and a failed handshake once
/// the client has been told, so the client can see either first.
fn totals_once(
    client: &manager::blocking::Client,
    done: impl Fn(&Totals) -> bool,
) -> anyhow::Result<Totals> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let totals = client.inspect()?.totals;
        if done(&totals) {
            return Ok(totals);
        }
        anyhow::ensure!(Instant::now() < deadline, "never reached: {totals:#?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn totals_count_errors_and_failed_handshakes() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let client = manager.connect()?;
    let before = client.inspect()?.totals;
    assert_eq!((before.errors_total, before.handshakes_failed), (0, 0));
    let rss = before
        .rss_bytes
        .expect("Linux reports the manager's memory");
    assert!(rss > 1 << 20, "{rss}");

    // Three requests answered with an error, among others that succeed.
    let ns = client.namespace("ns")?;
    ns.set("present", &1_i64)?;
    for _ in 0..3 {
        let err = ns.get::<i64>("missing").unwrap_err();
        assert!(
            matches!(
                err,
                manager::Error::Manager(ManagerError::NoSuchAttribute { .. })
            ),
            "{err}"
        );
        assert_eq!(ns.get::<i64>("present")?, 1);
    }
    // Two handshakes with a wrong key.
    for _ in 0..2 {
        let wrong = AuthKey::random()?;
        assert!(manager::blocking::Client::connect(manager.address(), &wrong).is_err());
    }

    let after = totals_once(&client, |t| t.errors_total >= 3 && t.handshakes_failed >= 2)?;
    assert_eq!(after.errors_total, 3, "{after:#?}");
    assert_eq!(after.handshakes_failed, 2, "{after:#?}");

    // And the page says so.
    let page = manager_inspect::render(manager.address(), &client.inspect()?);
    assert!(
        page.contains("errors 3   failed handshakes 2   memory "),
        "{page}"
    );
    Ok(())
}

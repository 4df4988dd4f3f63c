//! `ManagerProcessBuilder::metrics_with` makes the child serve the
//! Prometheus endpoint within the given bounds: its address comes back as
//! `ManagerProcess::metrics_address`, and a scrape shows at most
//! `max_objects` objects, counting the rest as omitted.

use std::time::Duration;

use manager::ManagerProcess;
use manager::metrics::MetricsLimits;
use tests::metrics::scrape;
use tests::{DEADLINE, worker_program};

#[test]
fn a_manager_process_serves_metrics_within_its_limits() -> anyhow::Result<()> {
    let limits = MetricsLimits {
        max_objects: 2,
        min_interval: Duration::from_millis(10),
        ..MetricsLimits::default()
    };
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .metrics_with("127.0.0.1:0".parse()?, limits)
        .start()?;
    let at = manager
        .metrics_address()
        .expect("a metrics address, as asked");
    assert!(at.ip().is_loopback() && at.port() != 0, "{at}");

    let client = manager.connect()?.with_timeout(DEADLINE);
    for name in ["a", "b", "c"] {
        client.namespace(name)?.set("x", &1_i64)?;
    }
    let response = scrape(at)?;
    assert_eq!(response.status, 200, "{}", response.head);
    assert_eq!(response.expect("manager_objects")?, 3.0);
    assert_eq!(response.expect("manager_metrics_objects_omitted")?, 1.0);
    // The first two by name are shown, the third is not.
    let kind = "kind=\"namespace\"";
    for (name, shown) in [("a", true), ("b", true), ("c", false)] {
        let series = format!("manager_object_requests_handled_total{{name=\"{name}\",{kind}}}");
        assert_eq!(response.sample(&series).is_some(), shown, "{series}");
    }
    drop(client);
    manager.shutdown()?;
    Ok(())
}

#[test]
fn a_manager_process_without_metrics_has_no_metrics_address() -> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .start()?;
    assert_eq!(manager.metrics_address(), None);
    manager.shutdown()?;
    Ok(())
}

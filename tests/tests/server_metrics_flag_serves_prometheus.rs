//! `manager-server --metrics IP:PORT` serves the Prometheus endpoint,
//! prints its address after the ready line, and warns when the address
//! can be reached from other hosts.

mod server_support;

use std::net::SocketAddr;

use anyhow::Context;
use manager::manager_process::METRICS_PREFIX;
use manager::{AuthKey, blocking};
use server_support::{Proc, server_with_key};
use tests::DEADLINE;
use tests::metrics::scrape;

/// Starts a server on loopback TCP with metrics on `metrics`; returns it,
/// its address and key, and the metrics address it printed.
fn start(metrics: &str) -> anyhow::Result<(Proc, manager::Address, AuthKey, SocketAddr)> {
    let key = AuthKey::random()?;
    let command = server_with_key(&["--tcp", "127.0.0.1:0", "--metrics", metrics], &key);
    let (mut server, address) = Proc::start_server(command)?;
    let line = server.next_line()?;
    let at = line
        .strip_prefix(METRICS_PREFIX)
        .with_context(|| format!("expected `{METRICS_PREFIX}ADDR`, got `{line}`"))?
        .parse()?;
    Ok((server, address, key, at))
}

#[test]
fn metrics_flag_serves_the_endpoint() -> anyhow::Result<()> {
    let (mut server, address, key, at) = start("127.0.0.1:0")?;
    let client = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
    let ns = client.namespace("from the server test")?;
    ns.set("x", &1_i64)?;
    ns.add("x", 2)?;

    let response = scrape(at)?;
    assert_eq!(response.status, 200, "{}", response.head);
    assert_eq!(response.expect("manager_connections")?, 1.0);
    assert!(response.expect("manager_requests_total")? >= 3.0);
    assert_eq!(
        response.expect(
            r#"manager_object_requests_handled_total{name="from the server test",kind="namespace"}"#
        )?,
        2.0
    );

    drop(client);
    server.signal(libc::SIGTERM)?;
    let (status, stderr) = server.wait()?;
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
    assert!(!stderr.contains("WARN"), "{stderr}");
    Ok(())
}

#[test]
fn metrics_on_every_interface_gets_a_warning() -> anyhow::Result<()> {
    let (mut server, _, _, at) = start("0.0.0.0:0")?;
    server.signal(libc::SIGTERM)?;
    let (status, stderr) = server.wait()?;
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
    let warning = stderr
        .lines()
        .find(|line| line.contains("WARN") && line.contains("metrics endpoint"))
        .unwrap_or_else(|| panic!("no warning; stderr:\n{stderr}"));
    assert!(warning.contains(&at.to_string()), "{warning}");
    assert!(warning.contains("not authenticated"), "{warning}");
    Ok(())
}

//! A server listening on TCP beyond loopback warns, naming the address,
//! that the authkey is its only protection and its traffic is not
//! encrypted; on loopback it does not.

mod server_support;

use manager::{Address, AuthKey};
use server_support::{Proc, server_with_key};

/// Starts a server on `tcp`, stops it, and returns its address and stderr.
fn run_on(tcp: &str) -> anyhow::Result<(Address, String)> {
    let key = AuthKey::random()?;
    let (mut server, address) = Proc::start_server(server_with_key(&["--tcp", tcp], &key))?;
    server.signal(libc::SIGTERM)?;
    let (status, stderr) = server.wait()?;
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
    Ok((address, stderr))
}

#[test]
fn every_interface_gets_a_warning_naming_the_address() -> anyhow::Result<()> {
    let (address, stderr) = run_on("0.0.0.0:0")?;
    let warning = stderr
        .lines()
        .find(|line| line.contains("WARN"))
        .unwrap_or_else(|| panic!("no warning; stderr:\n{stderr}"));
    assert!(warning.contains(&address.to_string()), "{warning}");
    assert!(
        warning.contains("the authkey is the only protection"),
        "{warning}"
    );
    assert!(warning.contains("not encrypted"), "{warning}");
    Ok(())
}

#[test]
fn loopback_gets_no_warning() -> anyhow::Result<()> {
    let (_, stderr) = run_on("127.0.0.1:0")?;
    assert!(!stderr.contains("WARN"), "{stderr}");
    Ok(())
}

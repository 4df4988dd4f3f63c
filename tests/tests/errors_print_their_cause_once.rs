//! An error either prints its cause or returns it from `source()`, never
//! both, so printing the whole chain says each thing once.

use manager::{AuthKey, blocking};
use tests::start_manager;

/// Fails if any error in the chain repeats its source's message.
fn assert_said_once(err: &(dyn std::error::Error + 'static)) {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(source) = e.source() {
            let (outer, inner) = (e.to_string(), source.to_string());
            assert!(
                !outer.contains(&inner),
                "`{outer}` prints its source `{inner}` and returns it too"
            );
        }
        current = e.source();
    }
}

#[test]
fn connection_errors_say_their_cause_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let wrong = AuthKey::from_bytes(*b"not the key")?;
    let err = blocking::Client::connect(manager.address(), &wrong).unwrap_err();
    assert_said_once(&err);
    let chain = format!("{:#}", anyhow::Error::from(err));
    assert_eq!(chain.matches("wrong authkey").count(), 1, "{chain}");

    let dir = tempfile::tempdir()?;
    let nowhere = manager::Address::Unix(dir.path().join("none.sock"));
    let err = blocking::Client::connect(&nowhere, manager.authkey()).unwrap_err();
    assert_said_once(&err);
    Ok(())
}

#[test]
fn launch_errors_say_their_cause_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let err = manager
        .launcher()
        .spawn_program("/nonexistent/program", "entry", &())
        .unwrap_err();
    assert_said_once(&err);
    let err = manager::pool::Pool::builder(&manager)
        .workers(1)
        .program("/nonexistent/program")
        .build()
        .unwrap_err();
    assert_said_once(&err);
    Ok(())
}

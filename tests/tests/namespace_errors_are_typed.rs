//! Misuse is a clear, typed error for that request only: an unknown
//! attribute, the wrong type, an unknown or removed object, a bad name.

use manager::{Error, ManagerError};
use tests::{DEADLINE, SHARED, connect, start_manager, worker_program};

#[test]
fn errors_in_the_main_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace("cfg")?;
    ns.set("name", "alice")?;

    let err = ns.get::<i64>("missing").unwrap_err();
    assert_eq!(
        err.to_string(),
        "namespace `cfg` has no attribute `missing`"
    );
    assert_eq!(ns.try_get::<i64>("missing")?, None);

    let err = ns.get::<i64>("name").unwrap_err();
    assert!(matches!(
        err,
        Error::Manager(ManagerError::WrongType { .. })
    ));
    assert_eq!(
        err.to_string(),
        "attribute `name` of namespace `cfg` holds a value of type `String`, not `i64`"
    );
    let err = ns.add("name", 1).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::WrongType { .. })),
        "{err}"
    );

    let err = client.lookup("nobody").unwrap_err();
    assert_eq!(err.to_string(), "no object named `nobody`");
    let err = client.namespace("").unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::InvalidName { .. })),
        "{err}"
    );

    // A removed object's proxies fail clearly; its name can be reused.
    assert!(client.remove("cfg")?);
    let err = ns.get::<String>("name").unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::ObjectGone { .. })),
        "{err}"
    );
    let again = client.namespace("cfg")?;
    assert_ne!(again.id(), ns.id());
    assert!(!again.contains("name")?);

    // None of it hurt the connection.
    again.set("ok", &true)?;
    assert!(again.get::<bool>("ok")?);
    Ok(())
}

#[test]
fn errors_in_a_worker_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    connect(&manager)?.namespace(SHARED)?.set("text", "hello")?;
    let mut worker = manager
        .launcher()
        .spawn_program(worker_program!(), "check_errors", &())?;
    worker.join_timeout(DEADLINE)?;
    Ok(())
}

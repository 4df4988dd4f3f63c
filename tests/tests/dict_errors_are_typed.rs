//! A dict misuse (a missing key without default, an add to a value that is
//! no `i64` or that would overflow, reading a value as the wrong type) is a
//! typed error that names the dict and fails that request only.

use manager::{Error, ManagerError};
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn errors_in_the_main_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let dict = client.dict::<String, i64>("cache")?;
    let key = |k: &str| k.to_owned();

    let err = dict.pop(&key("nope")).unwrap_err();
    assert_eq!(err.to_string(), "dict `cache` has no such key");
    assert_eq!(dict.pop_or(&key("nope"), &7)?, 7);
    assert_eq!(dict.remove(&key("nope"))?, None);
    let err = dict.popitem().unwrap_err();
    assert_eq!(err.to_string(), "dict `cache` is empty");

    assert_eq!(dict.add(&key("n"), i64::MAX)?, i64::MAX);
    let err = dict.add(&key("n"), 1).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Manager(ManagerError::Overflow {
                current,
                delta: 1,
                ..
            }) if current.as_str() == i64::MAX.to_string()
        ),
        "{err}"
    );
    assert_eq!(dict.get(&key("n"))?, Some(i64::MAX), "unchanged");

    client
        .dict::<String, String>("cache")?
        .insert(&key("s"), &"text".to_owned())?;
    let err = dict.add(&key("s"), 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a value of dict `cache` holds a value of type `String`, not `i64`"
    );
    let err = dict.values().unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::WrongType { .. })),
        "{err}"
    );
    assert_eq!(dict.keys()?, ["n", "s"]);
    Ok(())
}

#[test]
fn errors_in_a_worker_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    client
        .dict::<String, i64>("checked")?
        .insert(&"n".to_owned(), &1)?;
    client
        .dict::<String, String>("checked")?
        .insert(&"s".to_owned(), &"text".to_owned())?;
    manager
        .launcher()
        .spawn_program(worker_program!(), "dict_check_errors", "checked")?
        .join_timeout(DEADLINE)?;
    assert_eq!(
        client
            .dict::<String, i64>("checked")?
            .get(&"n".to_owned())?,
        Some(2)
    );
    Ok(())
}

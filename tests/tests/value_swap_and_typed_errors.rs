//! A value of any serde type can be read, set, swapped and
//! compare-and-swapped; adding to one that is no `i64`, or past `i64`'s
//! range, is a typed error that changes nothing.

use manager::{Error, ManagerError};
use serde::{Deserialize, Serialize};
use tests::{connect, start_manager};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Config {
    name: String,
    retries: u32,
}

#[test]
fn get_set_swap_and_compare_and_swap() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let first = Config {
        name: "a".into(),
        retries: 1,
    };
    let value = client.value("config", &first)?;
    assert_eq!(value.get()?, first);
    // Asking again for the name returns the object as it is.
    let again = client.value(
        "config",
        &Config {
            name: "ignored".into(),
            retries: 0,
        },
    )?;
    assert_eq!(again.get()?, first);

    let second = Config {
        name: "b".into(),
        retries: 2,
    };
    assert_eq!(value.swap(&second)?, first);
    assert_eq!(value.compare_and_swap(&first, &first)?, Err(second.clone()));
    assert_eq!(value.compare_and_swap(&second, &first)?, Ok(()));
    value.set(&second)?;
    assert_eq!(again.get()?, second);
    Ok(())
}

#[test]
fn adds_refuse_other_types_and_overflow() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    client.value("label", &"text".to_owned())?;
    let as_int = client.value("label", &0_i64)?;
    let err = as_int.add(1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "value `label` holds a value of type `String`, not `i64`"
    );

    let n = client.value("n", &(i64::MAX - 1))?;
    assert_eq!(n.add(1)?, i64::MAX);
    let err = n.add(1).unwrap_err();
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
    assert_eq!(n.get()?, i64::MAX, "unchanged");
    assert_eq!(n.sub(i64::MAX)?, 0);
    assert_eq!(n.sub(1)?, -1);
    // -1 - i64::MIN == i64::MAX; 0 - i64::MIN overflows.
    assert_eq!(n.sub(i64::MIN)?, i64::MAX);
    n.set(&0)?;
    let err = n.sub(i64::MIN).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Manager(ManagerError::Overflow { current, .. }) if current.as_str() == "0"
        ),
        "{err}"
    );
    assert_eq!(n.get()?, 0);
    Ok(())
}

//! A list `pop` of the wrong type removes nothing: the manager checks the
//! item's type before removing it and answers `WrongType`, so the item is
//! still there for a reader of the right type.

use manager::{Error, ManagerError};
use tests::{connect, start_manager};

#[test]
fn the_item_survives_and_a_pop_of_the_right_type_takes_it() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = client.list::<i64>("jobs")?;
    list.extend(&[1, 2, 3])?;
    let wrong = client.list::<String>("jobs")?;

    let err = wrong.pop().unwrap_err();
    assert_eq!(
        err.to_string(),
        "list `jobs` holds a value of type `i64`, not `String`"
    );
    let err = wrong.pop_index(0).unwrap_err();
    assert!(
        matches!(&err, Error::Manager(ManagerError::WrongType { stored, .. }) if stored == "i64"),
        "{err}"
    );
    assert_eq!(list.snapshot()?, [1, 2, 3], "nothing was removed");

    assert_eq!(list.pop()?, 3);
    assert_eq!(list.pop_index(0)?, 1);
    assert_eq!(list.snapshot()?, [2]);
    Ok(())
}

//! A set `pop` of the wrong type removes nothing: the manager checks the
//! item's type before removing it and answers `WrongType`, so the item is
//! still there for a reader of the right type.

use manager::{Error, ManagerError};
use tests::{connect, start_manager};

#[test]
fn the_item_survives_and_a_pop_of_the_right_type_takes_it() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let set = client.set::<i64>("seen")?;
    set.add(&1)?;
    set.add(&2)?;

    let err = client.set::<String>("seen")?.pop().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Manager(ManagerError::WrongType { what, stored, requested })
                if what == "set `seen`" && stored == "i64" && requested == "alloc::string::String"
        ),
        "{err}"
    );
    assert_eq!(set.snapshot()?, [1, 2], "nothing was removed");
    // An integer of another width is read when it fits, and refused, taking
    // nothing, when it does not.
    set.add(&-3)?;
    let err = client.set::<u32>("seen")?.pop().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Manager(ManagerError::DoesNotFit { stored, requested, .. })
                if stored == "i64" && requested == "u32"
        ),
        "{err}"
    );
    assert_eq!(set.snapshot()?, [1, 2, -3], "nothing was removed");
    assert!(set.discard(&-3)?);
    assert_eq!(set.pop()?, 2);
    assert_eq!(set.snapshot()?, [1]);
    Ok(())
}

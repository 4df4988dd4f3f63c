//! A dict `pop`, `pop_or`, `remove` or `popitem` of the wrong types removes
//! nothing: the manager checks the entry's types before removing it and
//! answers `WrongType`, so the entry is still there for a reader of the
//! right types.

use manager::{Error, ManagerError};
use tests::{connect, start_manager};

fn wrong_type<T: std::fmt::Debug>(result: Result<T, Error>, stored: &str, requested: &str) {
    match result {
        Err(Error::Manager(ManagerError::WrongType {
            what,
            stored: s,
            requested: r,
        })) if what == "dict `ages`" && s == stored && r == requested => {}
        other => panic!("expected WrongType ({stored} as {requested}), got {other:?}"),
    }
}

#[test]
fn the_entry_survives_and_a_pop_of_the_right_types_takes_it() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ages = client.dict::<String, i64>("ages")?;
    ages.update([("ada".to_owned(), 36), ("alan".to_owned(), 41)])?;
    let string = "alloc::string::String";

    let as_text = client.dict::<String, String>("ages")?;
    let ada = "ada".to_owned();
    wrong_type(as_text.pop(&ada), "i64", string);
    wrong_type(as_text.pop_or(&ada, &"?".to_owned()), "i64", string);
    wrong_type(as_text.remove(&ada), "i64", string);
    wrong_type(as_text.popitem(), "i64", string);
    // The key's type is checked too.
    wrong_type(client.dict::<u8, i64>("ages")?.popitem(), string, "u8");
    assert_eq!(
        ages.items()?,
        [("ada".to_owned(), 36), ("alan".to_owned(), 41)],
        "nothing was removed"
    );

    assert_eq!(ages.popitem()?, ("alan".to_owned(), 41));
    assert_eq!(ages.pop(&ada)?, 36);
    assert!(ages.is_empty()?);
    Ok(())
}

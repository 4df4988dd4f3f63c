//! A queue get, a list pop and a dict pop read an integer item of another
//! width when it fits; one that does not fit is refused before anything is
//! removed, so it stays for a reader of a type it fits.

use manager::{Error, ManagerError};
use tests::{connect, start_manager};

fn does_not_fit<T: std::fmt::Debug>(result: Result<T, Error>, stored: &str, requested: &str) {
    match result {
        Err(Error::Manager(ManagerError::DoesNotFit {
            stored: s,
            requested: r,
            ..
        })) if s == stored && r == requested => {}
        other => panic!("expected DoesNotFit ({stored} as {requested}), got {other:?}"),
    }
}

#[test]
fn queue_list_and_dict_items_cross_widths() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;

    let queue = client.queue::<i32>("jobs", None)?;
    queue.put(&-3)?;
    queue.put(&7)?;
    let as_u64 = client.queue::<u64>("jobs", None)?;
    does_not_fit(as_u64.get_nowait(), "i32", "u64");
    assert_eq!(queue.len()?, 2, "the refused item stays");
    assert_eq!(client.queue::<i64>("jobs", None)?.get_nowait()?, -3);
    assert_eq!(as_u64.get_nowait()?, 7);

    let list = client.list::<u64>("l")?;
    list.extend(&[1, 300])?;
    let as_u8 = client.list::<u8>("l")?;
    does_not_fit(as_u8.pop(), "u64", "u8");
    assert_eq!(list.len()?, 2);
    assert_eq!(as_u8.pop_index(0)?, 1);
    assert_eq!(client.list::<i16>("l")?.snapshot()?, [300]);

    let dict = client.dict::<String, i32>("d")?;
    dict.insert(&"a".to_owned(), &-1)?;
    let as_u8 = client.dict::<String, u8>("d")?;
    does_not_fit(as_u8.pop(&"a".to_owned()), "i32", "u8");
    assert_eq!(dict.len()?, 1);
    assert_eq!(client.dict::<String, i64>("d")?.pop(&"a".to_owned())?, -1);

    // Keys and items stay width-exact: an i32 0 is not an i64 0.
    let set = client.set::<i32>("s")?;
    set.add(&0)?;
    assert!(!client.set::<i64>("s")?.contains(&0)?);
    assert!(set.contains(&0)?);
    Ok(())
}

//! The bulk calls of a namespace (`update`, `get_many`) and a dict
//! (`update`, `get_many`, `remove_many`) are one request each, however many
//! items they carry (more than one slice of the manager's, and replies long
//! enough to come in parts), and answer in the order asked, absent items as
//! `None`. A `remove_many` with one value of the wrong type removes nothing.

use manager::{Error, ManagerError, blocking::Client};
use tests::{connect, start_manager};

/// More than two of the manager's bulk slices (16,384 items).
const MANY: u32 = 40_000;

/// How many requests the object `name` has carried out.
fn handled(client: &Client, name: &str) -> anyhow::Result<u64> {
    let snapshot = client.inspect()?;
    let object = snapshot
        .object(name)
        .ok_or_else(|| anyhow::anyhow!("no object `{name}`"))?;
    Ok(object.messages_handled)
}

/// Runs `call` and checks that it was exactly one request to `name`.
fn one_request<T>(
    client: &Client,
    name: &str,
    call: impl FnOnce() -> Result<T, Error>,
) -> anyhow::Result<T> {
    let before = handled(client, name)?;
    let out = call()?;
    assert_eq!(
        handled(client, name)?,
        before + 1,
        "one request to `{name}`"
    );
    Ok(out)
}

fn is_wrong_type<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(Error::Manager(ManagerError::WrongType { .. })) => {}
        other => panic!("expected WrongType, got {other:?}"),
    }
}

#[test]
fn namespace_update_and_get_many() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace("cfg")?;
    let names: Vec<String> = (0..MANY).map(|i| format!("a{i}")).collect();
    let values: Vec<u32> = (0..MANY).collect();
    one_request(&client, "cfg", || ns.update(names.iter().zip(&values)))?;
    assert_eq!(ns.get::<u32>("a39999")?, 39_999);

    let mut asked = names.clone();
    asked.insert(1, "absent".to_owned());
    let read = one_request(&client, "cfg", || ns.get_many::<u32>(&asked))?;
    let mut expected: Vec<Option<u32>> = values.iter().copied().map(Some).collect();
    expected.insert(1, None);
    assert!(read == expected, "{} values read", read.len());

    // A present attribute of another type fails the read.
    ns.set("title", "text")?;
    is_wrong_type(ns.get_many::<u32>(["a0", "title"]));
    assert_eq!(
        ns.get_many::<String>(["title", "nope"])?,
        [Some("text".to_owned()), None]
    );
    Ok(())
}

#[test]
fn dict_get_many_and_remove_many() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let d = client.dict::<u32, u64>("table")?;
    one_request(&client, "table", || {
        d.update((0..MANY).map(|k| (k, u64::from(k) * 10)))
    })?;
    assert_eq!(d.len()?, MANY as usize);

    let mut keys: Vec<u32> = (0..MANY).rev().collect();
    keys.push(MANY + 1);
    let mut expected: Vec<Option<u64>> = (0..MANY).rev().map(|k| Some(u64::from(k) * 10)).collect();
    expected.push(None);
    let read = one_request(&client, "table", || d.get_many(&keys))?;
    assert!(read == expected, "{} values read", read.len());

    // One value of another type: nothing is removed.
    let as_text = client.dict::<u32, String>("table")?;
    as_text.update([(7, "seven".to_owned())])?;
    is_wrong_type(d.remove_many(&keys));
    assert_eq!(d.len()?, MANY as usize);
    assert_eq!(as_text.remove(&7)?, Some("seven".to_owned()));

    // Every key but 7, plus an absent one, and 0 twice.
    keys.retain(|&k| k != 7);
    keys.push(0);
    expected.retain(|&v| v != Some(70));
    expected.push(None);
    let removed = one_request(&client, "table", || d.remove_many(&keys))?;
    assert!(removed == expected, "{} values removed", removed.len());
    assert!(d.is_empty()?);
    Ok(())
}

//! Worker entries for the tests of lists, dicts, sets, values and arrays.

use anyhow::{Context, bail, ensure};
use manager::launcher::Entries;
use manager::{Error, ManagerError, blocking};
use tests::DEADLINE;
use tests::containers::{
    ArrayBlock, DictModel, LARGE_LENGTHS, ListAppend, ListModel, RandomOps, SetAddRange, ValueAdd,
    check_dict_ops, check_list_ops, dict_ops, large_value, list_ops,
};

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .entry("list_random_ops", list_random_ops)
        .entry("dict_random_ops", dict_random_ops)
        .entry("list_append", list_append)
        .entry("list_check_errors", list_check_errors)
        .entry("dict_check_errors", dict_check_errors)
        .entry("set_add_range", set_add_range)
        .entry("value_add", value_add)
        .entry("value_cas_increment", value_cas_increment)
        .entry("array_write_block", array_write_block)
        .entry("large_values_put", large_values_put)
        .entry("large_values_get", large_values_get)
}

fn client() -> anyhow::Result<blocking::Client> {
    Ok(blocking::Client::from_env()
        .context("connect from the environment")?
        .with_timeout(DEADLINE))
}

/// Applies a seeded sequence to a list, checking each answer against a
/// model that starts from the list as the worker finds it.
fn list_random_ops(args: RandomOps) -> anyhow::Result<()> {
    let list = client()?.list::<i64>(&args.name)?;
    let mut model = ListModel(list.snapshot()?);
    check_list_ops(&list, &mut model, &list_ops(args.seed, args.count))?;
    ensure!(list.snapshot()? == model.0, "the list ends as the model");
    Ok(())
}

/// As `list_random_ops`, for a dict.
fn dict_random_ops(args: RandomOps) -> anyhow::Result<()> {
    let dict = client()?.dict::<String, i64>(&args.name)?;
    let mut model = DictModel(dict.items()?);
    check_dict_ops(&dict, &mut model, &dict_ops(args.seed, args.count))?;
    ensure!(dict.items()? == model.0, "the dict ends as the model");
    Ok(())
}

/// Appends its items: one alone, the next three in one `extend`, and so on;
/// with gates, only once the first is open, and the second half only once
/// the second is.
fn list_append(args: ListAppend) -> anyhow::Result<()> {
    let client = client()?;
    let list = client.list::<i64>(&args.list)?;
    // Each wait ends at the client's timeout at the latest.
    let pass = |gate: &Option<String>, which: &str| -> anyhow::Result<()> {
        if let Some(gate) = gate {
            ensure!(client.event(gate)?.wait()?, "the {which} gate did not open");
        }
        Ok(())
    };
    pass(&args.start, "start")?;
    let items: Vec<i64> = args.items().collect();
    let chunks: Vec<&[i64]> = items.chunks(4).collect();
    let halfway = chunks.len() / 2;
    for (round, chunk) in chunks.into_iter().enumerate() {
        if round == halfway {
            pass(&args.resume, "resume")?;
        }
        let (first, rest) = chunk.split_first().expect("chunks are never empty");
        list.append(first)?;
        if round % 2 == 0 {
            list.extend(rest)?;
        } else {
            for item in rest {
                list.append(item)?;
            }
        }
    }
    Ok(())
}

/// Checks from a worker process that each list misuse is a typed error
/// naming the list, for that call only. The list holds `[1, 2, 3]`.
fn list_check_errors(name: String) -> anyhow::Result<()> {
    let client = client()?;
    let list = client.list::<i64>(&name)?;
    let what = format!("list `{name}`");
    match list.get(3) {
        Err(Error::Manager(ManagerError::IndexOutOfRange {
            what: named,
            index: 3,
            len: 3,
        })) if named == what => {}
        other => bail!("get(3): expected IndexOutOfRange, got {other:?}"),
    }
    match list.set(-4, &0) {
        Err(Error::Manager(ManagerError::IndexOutOfRange { index: -4, .. })) => {}
        other => bail!("set(-4): expected IndexOutOfRange, got {other:?}"),
    }
    match list.remove(&9) {
        Err(Error::Manager(ManagerError::NotFound { what: named })) if named == what => {}
        other => bail!("remove(9): expected NotFound, got {other:?}"),
    }
    match client.list::<String>(&name)?.get(0) {
        Err(Error::Manager(ManagerError::WrongType {
            stored, requested, ..
        })) if stored == "i64" && requested.contains("String") => {}
        other => bail!("get as String: expected WrongType, got {other:?}"),
    }
    // A pop as the wrong type removes nothing (checked below).
    match client.list::<String>(&name)?.pop() {
        Err(Error::Manager(ManagerError::WrongType { what: named, .. })) if named == what => {}
        other => bail!("pop as String: expected WrongType, got {other:?}"),
    }
    let empty = client.list::<i64>(&format!("{name}-empty"))?;
    match empty.pop() {
        Err(Error::Manager(ManagerError::Empty { .. })) => {}
        other => bail!("pop of an empty list: expected Empty, got {other:?}"),
    }
    // Nothing above changed the list or hurt the connection.
    ensure!(list.snapshot()? == [1, 2, 3], "the list is unchanged");
    list.append(&4)?;
    ensure!(list.get(-1)? == 4, "the connection still works");
    Ok(())
}

/// Checks from a worker process that each dict misuse is a typed error
/// naming the dict. The dict holds `"n" -> 1` and the `String` `"s"`.
fn dict_check_errors(name: String) -> anyhow::Result<()> {
    let client = client()?;
    let dict = client.dict::<String, i64>(&name)?;
    let what = format!("dict `{name}`");
    match dict.pop(&"missing".to_owned()) {
        Err(Error::Manager(ManagerError::NoSuchKey { what: named })) if named == what => {}
        other => bail!("pop(missing): expected NoSuchKey, got {other:?}"),
    }
    match dict.add(&"s".to_owned(), 1) {
        Err(Error::Manager(ManagerError::WrongType {
            stored, requested, ..
        })) if stored.contains("String") && requested == "i64" => {}
        other => bail!("add to a String: expected WrongType, got {other:?}"),
    }
    match dict.add(&"n".to_owned(), i64::MAX) {
        Err(Error::Manager(ManagerError::Overflow {
            current,
            delta: i64::MAX,
            ..
        })) if current == "1" => {}
        other => bail!("add overflowing: expected Overflow, got {other:?}"),
    }
    match dict.get(&"s".to_owned()) {
        Err(Error::Manager(ManagerError::WrongType { .. })) => {}
        other => bail!("get of a String as i64: expected WrongType, got {other:?}"),
    }
    match dict.pop(&"s".to_owned()) {
        Err(Error::Manager(ManagerError::WrongType { what: named, .. })) if named == what => {}
        other => bail!("pop of a String as i64: expected WrongType, got {other:?}"),
    }
    ensure!(
        client
            .dict::<String, String>(&name)?
            .get(&"s".to_owned())?
            .is_some(),
        "the String popped as an i64 is still there"
    );
    ensure!(
        dict.add(&"n".to_owned(), 1)? == 2,
        "the connection still works"
    );
    Ok(())
}

/// Adds each item of its range to a set and counts those that were new
/// into a shared value.
fn set_add_range(args: SetAddRange) -> anyhow::Result<()> {
    let client = client()?;
    let set = client.set::<i64>(&args.set)?;
    let mut new = 0;
    for item in args.items {
        if set.add(&item)? {
            new += 1;
        }
    }
    client.value(&args.added, &0_i64)?.add(new)?;
    Ok(())
}

/// Adds 1 to a value, `times` times.
fn value_add(args: ValueAdd) -> anyhow::Result<()> {
    let value = client()?.value(&args.value, &0_i64)?;
    for _ in 0..args.times {
        value.add(1)?;
    }
    Ok(())
}

/// Adds 1 to a value, `times` times, each by a compare-and-swap loop.
fn value_cas_increment(args: ValueAdd) -> anyhow::Result<()> {
    let value = client()?.value(&args.value, &0_i64)?;
    let mut current = value.get()?;
    for _ in 0..args.times {
        loop {
            match value.compare_and_swap(&current, &(current + 1))? {
                Ok(()) => {
                    current += 1;
                    break;
                }
                Err(now) => current = now,
            }
        }
    }
    Ok(())
}

/// Writes its block of an array, round after round, checking each time
/// that its block reads back whole.
fn array_write_block(args: ArrayBlock) -> anyhow::Result<()> {
    let array = client()?.array::<i64>(&args.array, &[])?;
    let len = args.values.len() as i64;
    for round in 0..args.rounds {
        let values: Vec<i64> = args.values.iter().map(|v| v + round).collect();
        array.set_range(args.start, &values)?;
        let back = array.get_range(Some(args.start), Some(args.start + len))?;
        ensure!(back == values, "round {round}: read back {back:?}");
    }
    Ok(())
}

/// Puts each of the large values into the dict, list and queue named
/// `prefix`-dict, -list and -queue, in order.
fn large_values_put(prefix: String) -> anyhow::Result<()> {
    let client = client()?;
    let dict = client.dict::<u64, Vec<u8>>(&format!("{prefix}-dict"))?;
    let list = client.list::<Vec<u8>>(&format!("{prefix}-list"))?;
    let queue = client.queue::<Vec<u8>>(&format!("{prefix}-queue"), None)?;
    for (i, len) in LARGE_LENGTHS.into_iter().enumerate() {
        let value = large_value(i, len);
        dict.insert(&(i as u64), &value)?;
        list.append(&value)?;
        queue.put(&value)?;
    }
    Ok(())
}

/// Gets the large values from the queue `name`, in order, and checks each.
fn large_values_get(name: String) -> anyhow::Result<()> {
    let queue = client()?.queue::<Vec<u8>>(&name, None)?;
    for (i, len) in LARGE_LENGTHS.into_iter().enumerate() {
        let got = queue.get()?;
        ensure!(
            got.len() == len,
            "value {i}: {} bytes, not {len}",
            got.len()
        );
        ensure!(
            got == large_value(i, len),
            "value {i} of {len} bytes differs"
        );
    }
    Ok(())
}

//! A set answers like Python's set, in a deterministic order: the order
//! items were added in. `add` tells whether the item was new, atomically:
//! of workers adding overlapping ranges, exactly one sees each item as new.

use manager::{Error, ManagerError};
use tests::containers::SetAddRange;
use tests::{connect, run_workers, start_manager, worker_program};

#[test]
fn set_operations() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let set = connect(&manager)?.set::<String>("tags")?;
    let s = |x: &str| x.to_owned();
    for tag in ["red", "green", "blue", "green"] {
        set.add(&s(tag))?;
    }
    assert_eq!(set.snapshot()?, ["red", "green", "blue"]);
    assert_eq!(set.len()?, 3);
    assert!(set.contains(&s("blue"))?);

    let others = [s("blue"), s("cyan"), s("red"), s("cyan")];
    assert_eq!(set.union(&others)?, ["red", "green", "blue", "cyan"]);
    assert_eq!(set.intersection(&others)?, ["red", "blue"]);
    assert_eq!(set.difference(&others)?, ["green"]);
    assert_eq!(set.len()?, 3, "set algebra leaves the set alone");

    assert!(set.discard(&s("green"))?);
    assert!(!set.discard(&s("green"))?);
    let err = set.remove(&s("green")).unwrap_err();
    assert_eq!(err.to_string(), "set `tags` does not contain the value");
    set.remove(&s("red"))?;
    set.add(&s("red"))?;
    assert_eq!(set.snapshot()?, ["blue", "red"]);
    assert_eq!(set.pop()?, "red", "pop takes the last added");
    assert_eq!(set.pop()?, "blue");
    let err = set.pop().unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::Empty { .. })),
        "{err}"
    );
    assert!(set.is_empty()?);
    set.add(&s("x"))?;
    set.clear()?;
    assert_eq!(set.snapshot()?, Vec::<String>::new());
    Ok(())
}

#[test]
fn overlapping_adds_from_three_workers_count_each_item_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let args = [0..300, 100..400, 200..500].map(|items| SetAddRange {
        set: "ids".into(),
        items,
        added: "added".into(),
    });
    run_workers(&manager, worker_program!(), "set_add_range", args)?;

    let set = client.set::<i64>("ids")?;
    assert_eq!(set.len()?, 500);
    let mut items = set.snapshot()?;
    items.sort();
    assert_eq!(items, (0..500).collect::<Vec<_>>());
    // Each item was reported new to exactly one worker.
    assert_eq!(client.value("added", &0_i64)?.get()?, 500);
    Ok(())
}

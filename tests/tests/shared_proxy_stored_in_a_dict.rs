//! A proxy's token stored in a managed dict: a worker finds it there,
//! attaches and appends, and the process that stored it sees the appends.

use manager::proxy::{List, Shared};
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn worker_appends_to_a_list_found_in_a_dict() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = client.list::<i64>("results")?;
    list.append(&-1)?;
    let directory = client.dict::<String, Shared<List<i64>>>("directory")?;
    directory.insert(&"results".to_owned(), &list.share())?;

    let launcher = manager.launcher();
    let mut workers = [(0..10).collect::<Vec<i64>>(), (100..110).collect()]
        .iter()
        .map(|items| {
            launcher.spawn_program(
                worker_program!(),
                "shared_list_from_dict",
                &("directory", "results", items),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }

    let mut seen = list.snapshot()?;
    assert_eq!(seen.len(), 21);
    seen.sort_unstable();
    let expected: Vec<i64> = std::iter::once(-1).chain(0..10).chain(100..110).collect();
    assert_eq!(seen, expected);
    // The token in the dict is the list's, unchanged.
    let stored = directory.get(&"results".to_owned())?.expect("still there");
    assert_eq!(stored, list.share());
    assert_eq!(stored.name().as_str(), "results");
    Ok(())
}

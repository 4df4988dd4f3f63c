//! A dict behaves like a Python dict in insertion order: several hundred
//! seeded random operations (missing keys, `popitem` of an empty dict,
//! bulk updates, atomic adds) answer exactly as a local model does, both
//! from the test process and from a worker process.

use std::collections::{BTreeMap, HashMap};

use tests::containers::{DictModel, RandomOps, check_dict_ops, dict_ops};
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn random_operations_answer_as_the_model_in_this_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let dict = connect(&manager)?.dict::<String, i64>("counts")?;
    let mut model = DictModel::default();
    for seed in [1, 2, 3] {
        check_dict_ops(&dict, &mut model, &dict_ops(seed, 400))?;
        assert_eq!(dict.items()?, model.0, "after the sequence of seed {seed}");
    }
    Ok(())
}

#[test]
fn a_workers_random_operations_replay_on_the_model() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let dict = connect(&manager)?.dict::<String, i64>("counts")?;
    let mut model = DictModel::default();
    check_dict_ops(&dict, &mut model, &dict_ops(20, 300))?;

    let args = RandomOps {
        name: "counts".into(),
        seed: 21,
        count: 500,
    };
    manager
        .launcher()
        .spawn_program(worker_program!(), "dict_random_ops", &args)?
        .join_timeout(DEADLINE)?;

    for op in dict_ops(args.seed, args.count) {
        model.apply(&op);
    }
    assert_eq!(dict.items()?, model.0);
    Ok(())
}

#[test]
fn bulk_update_and_snapshots() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let dict = connect(&manager)?.dict::<String, i64>("bulk")?;
    // One request for a thousand entries; a repeated key keeps its first
    // place and takes its last value.
    let entries: Vec<(String, i64)> = (0..1_000).map(|i| (format!("key{i}"), i)).collect();
    dict.update(entries.iter().map(|(k, v)| (k, v)))?;
    dict.update([("key0".to_owned(), -1), ("new".to_owned(), 5)])?;
    assert_eq!(dict.len()?, 1_001);
    let keys = dict.keys()?;
    assert_eq!(keys[0], "key0");
    assert_eq!(keys[1_000], "new");
    assert_eq!(dict.get(&"key0".to_owned())?, Some(-1));

    let map: HashMap<String, i64> = dict.snapshot()?;
    assert_eq!(map.len(), 1_001);
    assert_eq!(map["key999"], 999);
    let sorted: BTreeMap<String, i64> = dict.snapshot()?;
    assert_eq!(sorted.keys().next().map(String::as_str), Some("key0"));
    assert_eq!(
        dict.values()?.iter().sum::<i64>(),
        (1..1_000).sum::<i64>() - 1 + 5
    );

    dict.clear()?;
    assert!(dict.is_empty()?);
    Ok(())
}

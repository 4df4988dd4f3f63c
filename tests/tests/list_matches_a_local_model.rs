//! A list behaves like a Python list: several hundred seeded random
//! operations (with out-of-range indices, absent values, pops from an empty
//! list, slices, sorts) answer exactly as a local model does, both from the
//! test process and from a worker process.

use tests::containers::{ListModel, RandomOps, check_list_ops, list_ops};
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn random_operations_answer_as_the_model_in_this_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let list = connect(&manager)?.list::<i64>("numbers")?;
    let mut model = ListModel::default();
    for seed in [1, 2, 3] {
        check_list_ops(&list, &mut model, &list_ops(seed, 400))?;
        assert_eq!(
            list.snapshot()?,
            model.0,
            "after the sequence of seed {seed}"
        );
        assert_eq!(list.len()?, model.0.len());
    }
    Ok(())
}

#[test]
fn a_workers_random_operations_replay_on_the_model() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let list = connect(&manager)?.list::<i64>("numbers")?;
    // The test starts the list off, then a worker carries on from there.
    let mut model = ListModel::default();
    check_list_ops(&list, &mut model, &list_ops(10, 300))?;

    let args = RandomOps {
        name: "numbers".into(),
        seed: 11,
        count: 500,
    };
    manager
        .launcher()
        .spawn_program(worker_program!(), "list_random_ops", &args)?
        .join_timeout(DEADLINE)?;

    // Replay what the worker did on the model: the manager must agree.
    for op in list_ops(args.seed, args.count) {
        model.apply(&op);
    }
    assert_eq!(list.snapshot()?, model.0);
    Ok(())
}

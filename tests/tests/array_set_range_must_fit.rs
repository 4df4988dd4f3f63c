//! An array keeps its length: `set_range` must fit inside it (a negative
//! start counts from the end), and one that does not fails whole and
//! changes nothing. Workers writing disjoint blocks never see each other's
//! writes torn.

use manager::{Error, ManagerError};
use tests::containers::ArrayBlock;
use tests::{connect, run_workers, start_manager, worker_program};

#[test]
fn set_range_bounds() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let array = connect(&manager)?.array("a", &[0_i64; 5])?;
    array.set_range(1, &[1, 2])?;
    array.set_range(-1, &[9])?;
    array.set_range(5, &[])?;
    assert_eq!(array.snapshot()?, [0, 1, 2, 0, 9]);

    let err = array.set_range(3, &[7, 7, 7]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "index 5 is out of range for array `a` of length 5"
    );
    for (start, values) in [
        (6, vec![]),
        (-6, vec![1]),
        (0, vec![0; 6]),
        (i64::MAX, vec![1]),
    ] {
        let err = array.set_range(start, &values).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Manager(ManagerError::IndexOutOfRange { len: 5, .. })
            ),
            "set_range({start}, {values:?}): {err}"
        );
    }
    assert_eq!(array.snapshot()?, [0, 1, 2, 0, 9], "nothing changed");
    assert_eq!(array.len()?, 5);
    assert!(array.get(5).is_err());
    assert!(array.set(-6, &1).is_err());
    Ok(())
}

#[test]
fn workers_write_disjoint_blocks() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let array = connect(&manager)?.array("blocks", &[0_i64; 40])?;
    let args = (0..4_i64).map(|w| ArrayBlock {
        array: "blocks".into(),
        start: w * 10,
        values: (0..10).map(|k| w * 1_000 + k).collect(),
        rounds: 50,
    });
    run_workers(&manager, worker_program!(), "array_write_block", args)?;
    let expected: Vec<i64> = (0..4_i64)
        .flat_map(|w| (0..10).map(move |k| w * 1_000 + k + 49))
        .collect();
    assert_eq!(array.snapshot()?, expected);
    Ok(())
}

//! Several worker processes read what the main process set and write their
//! own attributes concurrently; afterwards every write is visible.

use manager::launcher::Launcher;
use tests::{DEADLINE, SHARED, SetAndRead, connect, start_manager, worker_program};

#[test]
fn every_write_from_every_worker_is_visible() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let expected: Vec<(String, i64)> = (0..10).map(|i| (format!("main-{i}"), i * 7)).collect();
    for (attribute, value) in &expected {
        ns.set(attribute, value)?;
    }

    let launcher: Launcher = manager.launcher();
    let (workers, count) = (4_u32, 50_u32);
    let mut handles = (0..workers)
        .map(|index| {
            let args = SetAndRead {
                index,
                count,
                expected: expected.clone(),
            };
            launcher.spawn_program(worker_program!(), "set_and_read", &args)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for worker in &mut handles {
        worker.join_timeout(DEADLINE)?;
    }

    let snapshot = ns.snapshot()?;
    assert_eq!(snapshot.len(), expected.len() + (workers * count) as usize);
    for index in 0..workers {
        for k in 0..count {
            let value: i64 = snapshot.get(&format!("w{index}-{k}"))?;
            assert_eq!(value, i64::from(index) * 1_000_000 + i64::from(k));
        }
    }
    for (attribute, value) in &expected {
        assert_eq!(snapshot.get::<i64>(attribute)?, *value);
    }
    // Printed as Python prints a namespace, values read without their type.
    let shown = format!("{snapshot:?}");
    assert!(
        shown.starts_with("Namespace(") && shown.ends_with(')'),
        "{shown}"
    );
    assert!(shown.contains("w1-2=1000002"), "{shown}");
    Ok(())
}

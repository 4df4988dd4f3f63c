//! Lists and arrays follow Python's index rules: negative indices count
//! from the end, slices clamp, `insert` clamps, `pop(i)` takes any index.
//! The expected values are what CPython answers.

use tests::{connect, start_manager};

#[test]
fn negative_indices_slices_and_inserts_follow_python() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let l = connect(&manager)?.list::<i64>("l")?;
    l.extend(&[0, 1, 2, 3, 4])?;

    // l[-1], l[-5]
    assert_eq!(l.get(-1)?, 4);
    assert_eq!(l.get(-5)?, 0);
    // l[-6] and l[5] raise IndexError.
    assert!(l.get(-6).is_err());
    assert!(l.get(5).is_err());

    // Slices never raise.
    assert_eq!(l.slice(Some(1), Some(-1))?, [1, 2, 3]); // l[1:-1]
    assert_eq!(l.slice(Some(-2), None)?, [3, 4]); // l[-2:]
    assert_eq!(l.slice(None, Some(-3))?, [0, 1]); // l[:-3]
    assert_eq!(l.slice(Some(-100), Some(100))?, [0, 1, 2, 3, 4]); // l[-100:100]
    assert_eq!(l.slice(Some(3), Some(1))?, Vec::<i64>::new()); // l[3:1]
    assert_eq!(l.slice(Some(7), None)?, Vec::<i64>::new()); // l[7:]

    // l[-2] = 30
    l.set(-2, &30)?;
    assert_eq!(l.snapshot()?, [0, 1, 2, 30, 4]);

    // l.insert(-1, 9): before the last item.
    l.insert(-1, &9)?;
    assert_eq!(l.snapshot()?, [0, 1, 2, 30, 9, 4]);
    // l.insert(100, 7) appends, l.insert(-100, 8) prepends.
    l.insert(100, &7)?;
    l.insert(-100, &8)?;
    assert_eq!(l.snapshot()?, [8, 0, 1, 2, 30, 9, 4, 7]);

    // l.pop(-3) == 9, l.pop(0) == 8, l.pop() == 7
    assert_eq!(l.pop_index(-3)?, 9);
    assert_eq!(l.pop_index(0)?, 8);
    assert_eq!(l.pop()?, 7);
    assert_eq!(l.snapshot()?, [0, 1, 2, 30, 4]);

    // l.index, l.count, in
    l.append(&1)?;
    assert_eq!(l.index(&1)?, 1);
    assert_eq!(l.count(&1)?, 2);
    assert!(l.contains(&30)?);
    assert!(!l.contains(&31)?);
    l.remove(&1)?; // the first 1 only
    assert_eq!(l.snapshot()?, [0, 2, 30, 4, 1]);
    l.reverse()?;
    assert_eq!(l.snapshot()?, [1, 4, 30, 2, 0]);
    Ok(())
}

#[test]
fn arrays_take_negative_indices_too() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let a = connect(&manager)?.array("a", &[10_i64, 20, 30])?;
    assert_eq!(a.get(-1)?, 30);
    assert_eq!(a.get(-3)?, 10);
    assert!(a.get(-4).is_err());
    a.set(-2, &21)?;
    assert_eq!(a.get_range(Some(-2), None)?, [21, 30]);
    assert_eq!(a.get_range(None, Some(-5))?, Vec::<i64>::new());
    Ok(())
}

//! Integers are one family: a literal (`&0`, an `i32`) stored by one
//! process is added to by others and read back as any width it fits in. A
//! value that does not fit, or an add that would overflow the stored width,
//! is a clear error naming the types, never a wrapped number.

use manager::{Error, ManagerError};
use tests::{Add, SHARED, connect, run_workers, start_manager, worker_program};

#[test]
fn an_i32_literal_is_added_to_by_workers_and_read_as_i64() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    ns.set("count", &0)?;
    run_workers(
        &manager,
        worker_program!(),
        "add",
        (0..2).map(|_| Add {
            attribute: "count".into(),
            times: 150,
        }),
    )?;
    assert_eq!(ns.get::<i64>("count")?, 300);
    assert_eq!(ns.get::<i32>("count")?, 300, "still stored as an i32");
    assert_eq!(ns.get::<u16>("count")?, 300);
    assert_eq!(ns.add("count", -1)?, 299);

    let err = ns.get::<u8>("count").unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::DoesNotFit { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "attribute `count` of namespace `shared` holds the `i32` 299, which `u8` cannot hold"
    );
    Ok(())
}

#[test]
fn an_add_that_overflows_the_stored_width_fails_and_changes_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace("n")?;
    ns.set("small", &120_i8)?;
    let err = ns.add("small", 10).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::Overflow { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "adding 10 to attribute `small` of namespace `n` (now 120) overflows its type `i8`"
    );
    assert_eq!(ns.get::<i8>("small")?, 120);
    assert_eq!(ns.add("small", 7)?, 127);

    ns.set("unsigned", &5_u32)?;
    let err = ns.add("unsigned", -6).unwrap_err();
    assert_eq!(
        err.to_string(),
        "adding -6 to attribute `unsigned` of namespace `n` (now 5) overflows its type `u32`"
    );
    assert_eq!(ns.add("unsigned", -5)?, 0);

    // A float is no integer: add refuses it, naming the type.
    ns.set("ratio", &0.5_f64)?;
    let err = ns.add("ratio", 1).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::WrongType { .. })),
        "{err:?}"
    );
    // Floats read across widths where nothing is lost.
    assert_eq!(ns.get::<f32>("ratio")?, 0.5);
    ns.set("third", &(1.0_f64 / 3.0))?;
    assert!(matches!(
        ns.get::<f32>("third").unwrap_err(),
        Error::Manager(ManagerError::DoesNotFit { .. })
    ));
    ns.set("single", &0.1_f32)?;
    assert_eq!(ns.get::<f64>("single")?, f64::from(0.1_f32));
    Ok(())
}

#[test]
fn values_and_dicts_of_literals_add_too() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    // `&0` makes a `Value<i32>`; it adds like a `Value<i64>`.
    let hits = client.value("hits", &0)?;
    assert_eq!(hits.add(5)?, 5);
    assert_eq!(hits.get()?, 5_i32);
    let err = client.value("tiny", &250_u8)?.add(6).unwrap_err();
    assert_eq!(
        err.to_string(),
        "adding 6 to value `tiny` (now 250) overflows its type `u8`"
    );

    let counts = client.dict::<String, u16>("counts")?;
    assert_eq!(counts.add("a", 2)?, 2, "absent counts as 0");
    counts.insert("b", &7)?;
    assert_eq!(counts.add("b", 1)?, 8);
    assert_eq!(counts.get("b")?, Some(8));
    assert_eq!(client.dict::<String, i64>("counts")?.get("b")?, Some(8));
    Ok(())
}

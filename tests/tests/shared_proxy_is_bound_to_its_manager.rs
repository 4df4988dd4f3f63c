//! A `Shared` token names the manager it was made on: attaching it on
//! another manager, even one with an object of the same id and name, is a
//! clear error, never a proxy of the other manager's object.

use tests::{connect, start_manager};

#[test]
fn a_token_of_one_manager_does_not_attach_on_another() -> anyhow::Result<()> {
    let first = start_manager()?;
    let second = start_manager()?;
    let one = connect(&first)?;
    let two = connect(&second)?;
    // The same steps on both managers give objects of the same id.
    let mine = one.list::<i64>("items")?;
    let theirs = two.list::<i64>("items")?;
    assert_eq!(mine.id(), theirs.id());
    theirs.append(&99)?;

    let token = mine.share();
    let err = two.attach(&token).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("another manager"), "{message}");
    assert_eq!(theirs.snapshot()?, [99]);

    // On its own manager it attaches.
    let again = connect(&first)?.attach(&token)?;
    again.append(&1)?;
    assert_eq!(mine.snapshot()?, [1]);
    Ok(())
}

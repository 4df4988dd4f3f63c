//! The registry's create-or-get, lookup and list from several processes:
//! one name is one object, whoever asks first.

use manager_core::ObjectKind;
use tests::{Add, connect, run_workers, start_manager, worker_program};

#[test]
fn workers_and_main_share_objects_by_name() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let mine = client.namespace("mine")?;
    mine.set("x", &1_i64)?;

    // Workers create "shared" by name; the first one creates it.
    let args = Add {
        attribute: "n".into(),
        times: 10,
    };
    run_workers(&manager, worker_program!(), "add", vec![args; 3])?;

    let shared = client.lookup("shared")?;
    assert_eq!(shared.kind, ObjectKind::Namespace);
    assert!(!shared.created);
    let objects = client.objects()?;
    let names: Vec<_> = objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["mine", "shared"]);
    let shared_row = &objects[1];
    assert_eq!(shared_row.id, shared.id);
    assert_eq!(shared_row.messages_handled, 30, "3 workers x 10 adds");
    assert_eq!(client.namespace("shared")?.get::<i64>("n")?, 30);
    Ok(())
}

//! Attaching a token checks that it still refers to the object it was
//! made from: a removed object is gone even if its name was created again,
//! another kind under the name is a kind mismatch, and a token read as
//! another proxy type is a type error. Blocking and async clients attach
//! each other's tokens.

use manager::proxy::{self, List, Queue, Shared};
use manager::{Error, ManagerError};
use manager_core::ObjectKind;
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn a_removed_object_is_gone_even_if_its_name_is_taken_again() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let old = client.list::<i64>("items")?;
    let token = old.share();
    assert!(client.remove("items")?);

    match client.attach(&token) {
        Err(Error::Manager(ManagerError::ObjectGone { id })) => assert_eq!(id, old.id()),
        other => panic!("removed: expected ObjectGone, got {other:?}"),
    }
    // The same from another process.
    manager
        .launcher()
        .spawn_program(worker_program!(), "shared_attach_is_gone", &token)?
        .join_timeout(DEADLINE)?;

    // A new list of that name is another object: the old token stays gone,
    // as a Python proxy stays bound to its object.
    let new = client.list::<i64>("items")?;
    new.append(&1)?;
    assert_ne!(new.id(), old.id());
    match client.attach(&token) {
        Err(Error::Manager(ManagerError::ObjectGone { id })) => assert_eq!(id, old.id()),
        other => panic!("recreated: expected ObjectGone, got {other:?}"),
    }
    let attached = connect(&manager)?.attach(&new.share())?;
    assert_eq!(attached.snapshot()?, [1]);
    Ok(())
}

#[test]
fn another_kind_under_the_name_is_object_gone() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = client.list::<i64>("thing")?;
    let token = list.share();
    client.remove("thing")?;
    client.queue::<i64>("thing", None)?;
    match client.attach(&token) {
        Err(Error::Manager(ManagerError::ObjectGone { id })) => assert_eq!(id, list.id()),
        other => panic!("expected ObjectGone, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_token_read_as_another_proxy_type_is_wrong_type() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.queue::<u64>("jobs", None)?;
    let ns = client.namespace("tokens")?;
    ns.set("jobs", &jobs.share())?;

    match ns.get::<Shared<List<u64>>>("jobs") {
        Err(Error::Manager(ManagerError::WrongType {
            stored, requested, ..
        })) => {
            assert!(
                stored.contains("Shared<") && stored.contains("Queue<u64>"),
                "{stored}"
            );
            assert!(requested.contains("List<u64>"), "{requested}");
        }
        other => panic!("as a list: expected WrongType, got {other:?}"),
    }
    // The element type is part of the token's type too.
    match ns.get::<Shared<Queue<String>>>("jobs") {
        Err(Error::Manager(ManagerError::WrongType { .. })) => {}
        other => panic!("as a queue of strings: expected WrongType, got {other:?}"),
    }
    let token: Shared<Queue<u64>> = ns.get("jobs")?;
    assert_eq!(token, jobs.share());
    assert_eq!(token.kind(), &ObjectKind::Queue);
    client.attach(&token)?.put(&3)?;
    assert_eq!(jobs.get()?, 3);
    Ok(())
}

#[test]
fn blocking_and_async_clients_attach_each_others_tokens() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let blocking = connect(&manager)?;
    let counts = blocking.dict::<String, i64>("counts")?;
    let from_blocking = counts.share();
    let removed = blocking.event("removed")?.share();
    blocking.remove("removed")?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let from_async: Shared<proxy::Dict<String, i64>> = runtime.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        let counts = client.attach(&from_blocking).await?;
        counts.add(&"seen".to_owned(), 1).await?;
        match client.attach(&removed).await {
            Err(Error::Manager(ManagerError::ObjectGone { id })) => {
                assert_eq!(id, removed.id());
            }
            other => panic!("expected ObjectGone, got {other:?}"),
        }
        let own = client.dict::<String, i64>("counts").await?;
        anyhow::Ok(own.share())
    })?;

    assert_eq!(from_async, from_blocking);
    let again = blocking.attach(&from_async)?;
    assert_eq!(again.add(&"seen".to_owned(), 1)?, 2);
    assert_eq!(counts.get(&"seen".to_owned())?, Some(2));
    Ok(())
}

/// Tokens go wherever values go, threads included, whatever their proxy.
#[test]
fn tokens_are_send_sync() {
    fn is_send_sync<T: Send + Sync + 'static>() {}
    is_send_sync::<Shared<Queue<u64>>>();
    is_send_sync::<Shared<proxy::Lock>>();
    is_send_sync::<Shared<proxy::Dict<String, std::rc::Rc<u8>>>>();
}

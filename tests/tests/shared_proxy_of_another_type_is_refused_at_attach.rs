//! A token names the proxy type it was made for, and attaching checks it,
//! however the token travelled. A token read back through the manager is
//! checked by its value's type tag already; one that went another way (a
//! file, the application's own channel, a field of a struct whose field
//! type changed between builds) carries no tag, and was attached as any
//! proxy of the object's kind: a `Queue<u64>`'s token as a `Queue<String>`,
//! into which `put` then stored strings. Attaching is refused with
//! `WrongType` naming both proxy types.

use manager::proxy::{self, Queue, Shared};
use manager::{Error, ManagerError};
use manager_core::codec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tests::{connect, start_manager};

/// `token` as a token of another proxy type, moved through bytes without
/// a type tag, as any serde channel outside the manager moves it.
fn retyped<A: Serialize, B: DeserializeOwned>(token: &A) -> B {
    codec::decode(&codec::encode(token).expect("a token encodes")).expect("a token decodes")
}

/// Asserts `result` is `WrongType` whose message names `stored` and
/// `requested` (as a Rust user writes them); returns the message.
fn assert_wrong_type<T: std::fmt::Debug>(
    result: Result<T, Error>,
    stored: &str,
    requested: &str,
) -> String {
    match result {
        Err(Error::Manager(e @ ManagerError::WrongType { .. })) => {
            let message = e.to_string();
            let (s, r) = message
                .split_once(", not ")
                .expect("WrongType names both types");
            assert!(s.contains(stored), "{message}: should name {stored}");
            assert!(r.contains(requested), "{message}: should name {requested}");
            message
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
}

#[test]
fn a_queue_token_of_another_item_type_is_refused() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.queue::<u64>("jobs", None)?;
    let token = jobs.share();

    let as_strings: Shared<Queue<String>> = retyped(&token);
    let message = assert_wrong_type(client.attach(&as_strings), "Queue<u64>", "Queue<String>");
    assert!(message.contains("queue `jobs`"), "{message}");

    // Nothing of another type went in; the right type still attaches.
    assert_eq!(jobs.len()?, 0);
    connect(&manager)?.attach(&token)?.put(&7)?;
    assert_eq!(jobs.get()?, 7);
    Ok(())
}

#[test]
fn a_lock_token_is_not_an_rlock_token() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let lock = client.lock("l")?;
    let as_rlock: Shared<proxy::RLock> = retyped(&lock.share());
    assert_wrong_type(client.attach(&as_rlock), "marker::Lock", "marker::RLock");

    let rlock = client.rlock("r")?;
    let as_lock: Shared<proxy::Lock> = retyped(&rlock.share());
    assert_wrong_type(client.attach(&as_lock), "marker::RLock", "marker::Lock");
    Ok(())
}

#[test]
fn a_dict_token_of_other_key_or_value_types_is_refused() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let counts = client.dict::<String, i64>("counts")?;
    let as_u8: Shared<proxy::Dict<String, u8>> = retyped(&counts.share());
    assert_wrong_type(
        client.attach(&as_u8),
        "Dict<String, i64>",
        "Dict<String, u8>",
    );
    Ok(())
}

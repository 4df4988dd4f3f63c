//! An item put under a consumer's type name but in another layout (as a
//! struct changed between two builds would be) fails that consumer's get
//! with `Undecodable` and goes back to the front: nothing is lost, for a
//! single `get` or for a `get_many`'s whole batch.

use manager::{Error, ManagerError};
use manager_core::request::{QueueRequest, Request, Wait};
use manager_core::{Encoded, TypeTag, codec};
use tests::{DEADLINE, connect, start_manager};

/// A value tagged `u64` whose bytes are no `u64` (a varint that never
/// ends).
fn not_a_u64() -> anyhow::Result<Encoded> {
    // An `Encoded` travels as its tag, then its bytes as a byte string,
    // which is the wire form of a `Vec<u8>` too.
    #[derive(serde::Serialize)]
    struct Wire {
        tag: TypeTag,
        bytes: Vec<u8>,
    }
    let wire = codec::encode(&Wire {
        tag: TypeTag::of::<u64>(),
        bytes: vec![0xff; 12],
    })?;
    Ok(codec::decode(&wire)?)
}

#[test]
fn an_undecodable_item_is_put_back_not_lost() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?.with_timeout(DEADLINE);
    let queue = client.queue::<u64>("jobs", None)?;
    let put_raw = |value: Encoded| {
        client.call(Request::Object {
            target: queue.id(),
            op: QueueRequest::put(value, Wait::No).into_request(),
        })
    };
    put_raw(not_a_u64()?)?;
    queue.put(&7)?;

    for _ in 0..2 {
        let err = queue.get().unwrap_err();
        assert!(
            matches!(err, Error::Manager(ManagerError::Undecodable { .. })),
            "{err:?}"
        );
        let err = queue.get_many(10).unwrap_err();
        assert!(
            matches!(err, Error::Manager(ManagerError::Undecodable { .. })),
            "{err:?}"
        );
    }
    // Both items are still there, in their order: the return of the last
    // failed call is in order before this request on the connection.
    assert_eq!(queue.len()?, 2);
    Ok(())
}

//! Registry calls in flight together on one connection are applied in the
//! order they were sent, and each gets its own answer; the manager sends
//! those it reads in a row to the registry as one message (at most 256),
//! so several such messages are covered here too.

use futures_util::future::join_all;
use manager::{Error, ManagerError};
use tests::{DEADLINE, start_manager};

/// More than one batch of the reader's.
const OBJECTS: usize = 600;

#[test]
fn pipelined_creates_removes_and_lookups_apply_in_order() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        let names: Vec<String> = (0..OBJECTS).map(|i| format!("o{i}")).collect();
        // All in flight at once: each future sends its request when first
        // polled, and `join_all` polls them in order.
        let created = join_all(names.iter().map(|n| client.namespace(n))).await;
        for (name, ns) in names.iter().zip(created) {
            assert_eq!(ns?.name().as_str(), name.as_str());
        }
        assert_eq!(client.objects().await?.len(), OBJECTS);

        // Every namespace removed, then a list created under each name, all
        // in flight at once (the removes are sent first). In order, all
        // succeed; a list created before its name's remove would meet the
        // namespace (KindMismatch), or be removed itself.
        let removes: Vec<_> = names.iter().map(|n| client.remove(n)).collect();
        let lists: Vec<_> = names.iter().map(|n| client.list::<u8>(n)).collect();
        let (removed, lists) = tokio::join!(join_all(removes), join_all(lists));
        for (name, removed) in names.iter().zip(removed) {
            assert!(removed?, "{name} was removed");
        }
        for list in lists {
            list?.append(&1).await?;
        }
        let summaries = client.objects().await?;
        assert_eq!(summaries.len(), OBJECTS);
        assert!(
            summaries
                .iter()
                .all(|o| o.kind.to_string().contains("list")),
            "{summaries:?}"
        );

        // A lookup sent after a remove in the same batch sees it gone.
        let (removed, found) = tokio::join!(client.remove("o0"), client.lookup("o0"));
        assert!(removed?);
        match found {
            Err(Error::Manager(ManagerError::NoSuchObject { name })) => assert_eq!(name, "o0"),
            other => panic!("lookup after remove: {other:?}"),
        }
        anyhow::Ok(())
    })?;
    manager.shutdown();
    Ok(())
}

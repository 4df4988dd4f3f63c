//! Worker entries for the tests of shared proxies (`tests/shared_*.rs`):
//! each gets a [`Shared`] token (as its argument, from a dict or from a
//! queue item), attaches on its own connection and uses the object.

use anyhow::{Context, bail, ensure};
use manager::launcher::Entries;
use manager::proxy::{List, Queue, Shared};
use manager::{Error, ManagerError};

use crate::client;

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .entry("shared_queue_put_range", shared_queue_put_range)
        .entry("shared_list_from_dict", shared_list_from_dict)
        .entry("shared_reply_server", shared_reply_server)
        .entry("shared_attach_is_gone", shared_attach_is_gone)
}

/// Attaches the queue it was given and puts `0..count` on it.
fn shared_queue_put_range((queue, count): (Shared<Queue<u64>>, u64)) -> anyhow::Result<()> {
    let queue = client()?.attach(&queue).context("attach the queue")?;
    for n in 0..count {
        queue.put(&n)?;
    }
    Ok(())
}

/// Reads a list token from the dict `dict` under `key`, attaches the list
/// and appends `items`.
fn shared_list_from_dict((dict, key, items): (String, String, Vec<i64>)) -> anyhow::Result<()> {
    let client = client()?;
    let dict = client.dict::<String, Shared<List<i64>>>(&dict)?;
    let Some(token) = dict.get(&key)? else {
        bail!("no token under `{key}`");
    };
    let list = client.attach(&token).context("attach the list")?;
    list.extend(&items)?;
    Ok(())
}

/// Serves requests from the queue `jobs`: each is a number and the token of
/// the queue to put its square on; `None` ends the worker.
fn shared_reply_server(jobs: String) -> anyhow::Result<()> {
    let client = client()?;
    let jobs = client.queue::<Option<(u64, Shared<Queue<u64>>)>>(&jobs, None)?;
    // Each `get` waits at most the client's timeout.
    while let Some((n, reply_to)) = jobs.get()? {
        client.attach(&reply_to)?.put(&(n * n))?;
    }
    Ok(())
}

/// Succeeds only if attaching `token` fails with `ObjectGone` for its id.
fn shared_attach_is_gone(token: Shared<List<i64>>) -> anyhow::Result<()> {
    match client()?.attach(&token) {
        Err(Error::Manager(ManagerError::ObjectGone { id })) => {
            ensure!(
                id == token.id(),
                "ObjectGone names {id}, not the token's id"
            );
            Ok(())
        }
        Ok(list) => bail!("attached to {} (id {})", list.name(), list.id()),
        Err(e) => bail!("expected ObjectGone, got: {e}"),
    }
}

/// The pool task: attaches the list it was given and appends `value`.
pub(crate) fn shared_list_append((list, value): (Shared<List<u64>>, u64)) -> anyhow::Result<u32> {
    client()?.attach(&list)?.append(&value)?;
    Ok(std::process::id())
}

//! Whatever the manager hands to a waiter whose connection has just died (a
//! queue item, a semaphore unit, a lock, a condition's notify) is given
//! back, never lost: the race between a worker's death and the hand-off,
//! run 1,000 times per kind on each transport.
//!
//! Each round parks a request on a connection (the doomed waiter) and makes
//! sure the manager has parked it (a later request to the same object on
//! the same connection has been answered). Then, in turn:
//!
//! - *closed first*: the doomed connection is closed abruptly, which is
//!   what the kernel does to a SIGKILLed worker's sockets, and at once the
//!   one thing it waited for is released. The manager may see the close
//!   before or after it hands the thing over.
//! - *stalled, then closed*: the doomed connection first asks for a reply
//!   too large for the socket's buffers and reads nothing, so the
//!   manager's writer for it is stuck; the thing is released and handed
//!   to the doomed waiter, whose reply waits behind the stuck one; then
//!   the connection closes. The reply that hands the thing over is never
//!   written.
//!
//! Either way a live waiter must then get the thing. A loss shows as a
//! live wait that never ends (bounded by the test's deadline). Over TCP
//! only the second variant runs: there a close can reach the manager after
//! a write into the dead peer has already succeeded.
//!
//! `handoff_to_a_killed_worker_is_given_back` below runs the same race
//! with real worker processes killed with SIGKILL and reaped, fewer times.

use std::time::Duration;

use anyhow::{Context, ensure};
use manager::{Address, Client, Manager};
use manager_core::reply::Reply;
use manager_core::request::{
    ConditionRequest, LockRequest, ObjectRequest, Owner, QueueRequest, SemaphoreRequest, Wait,
};
use tests::DEADLINE;
use tests::raw::RawConnection;

/// Rounds per kind and transport (over Unix sockets alternating the two
/// variants).
const ROUNDS: usize = 1_000;

impl Transport {
    /// Whether only the *stalled* variant is run. On TCP a peer's close
    /// travels as a segment that may reach the manager's socket after a
    /// write the kernel already accepted (and then threw away), so what is
    /// handed to a peer that has just closed is not guaranteed to come back
    /// (docs/semantics.md, *When a worker dies*); what is guaranteed is
    /// that a reply never written comes back.
    fn stalls_only(self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// The size of a reply that stalls a connection's writer when nobody
    /// reads: well over what the socket buffers (a Unix socket's send
    /// buffer is about 200 KiB; a TCP send buffer grows to 4 MiB at most
    /// here, and [`RawConnection`] keeps its receive buffer small).
    fn stall_bytes(self) -> usize {
        match self {
            Transport::Unix => 1 << 20,
            Transport::Tcp => 6 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Transport {
    Unix,
    Tcp,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Queue,
    JoinableQueue,
    Semaphore,
    OwnedSemaphore,
    Lock,
    Condition,
}

fn start(transport: Transport) -> anyhow::Result<Manager> {
    let builder = Manager::builder();
    let builder = match transport {
        Transport::Unix => builder,
        Transport::Tcp => builder.tcp("127.0.0.1:0".parse()?),
    };
    Ok(builder.start()?)
}

/// Runs [`ROUNDS`] rounds of the race for `kind` over `transport`.
fn race(transport: Transport, kind: Kind) -> anyhow::Result<()> {
    let manager = start(transport)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Client::connect(manager.address(), manager.authkey())
            .await?
            .with_timeout(DEADLINE);
        let stall = client.namespace("stall").await?;
        stall
            .set("big", &"x".repeat(transport.stall_bytes()))
            .await?;
        let mut race = Race {
            address: manager.address().clone(),
            key: manager.authkey().clone(),
            client,
            stall: stall.id(),
            stall_first: false,
        };
        for round in 0..ROUNDS {
            race.stall_first = transport.stalls_only() || round % 2 == 1;
            race.round(kind)
                .await
                .with_context(|| format!("{kind:?} over {transport:?}, round {round}"))?;
        }
        anyhow::Ok(())
    })
}

struct Race {
    address: Address,
    key: manager::AuthKey,
    client: Client,
    /// The namespace holding the value that stalls a writer.
    stall: manager_core::ObjectId,
    /// Whether this round stalls the doomed connection before the hand-off.
    stall_first: bool,
}

impl Race {
    async fn open(&self) -> anyhow::Result<RawConnection> {
        RawConnection::open(&self.address, &self.key).await
    }

    /// In a *stalled* round, stalls `doomed`'s writer: asks for the large
    /// value and waits until its first bytes arrive, so the writer is
    /// stuck writing it and the hand-off's reply will queue behind it.
    async fn prepare(&mut self, doomed: &mut RawConnection) -> anyhow::Result<()> {
        if !self.stall_first {
            return Ok(());
        }
        doomed
            .send(
                self.stall,
                ObjectRequest::Namespace(manager_core::request::NamespaceRequest::Get {
                    attribute: "big".into(),
                }),
            )
            .await?;
        doomed.wait_for_bytes().await
    }

    /// Releases the doomed waiter's thing with `release` and closes the
    /// doomed connection, in this round's order.
    async fn release_and_close<F: Future<Output = anyhow::Result<()>>>(
        &self,
        doomed: RawConnection,
        release: F,
    ) -> anyhow::Result<()> {
        if self.stall_first {
            release.await?;
            drop(doomed);
        } else {
            drop(doomed);
            release.await?;
        }
        Ok(())
    }

    async fn round(&mut self, kind: Kind) -> anyhow::Result<()> {
        match kind {
            Kind::Queue => self.queue(false).await,
            Kind::JoinableQueue => self.queue(true).await,
            Kind::Semaphore => self.semaphore(false).await,
            Kind::OwnedSemaphore => self.semaphore(true).await,
            Kind::Lock => self.lock().await,
            Kind::Condition => self.condition().await,
        }
    }

    /// A getter dies parked; the item put right after reaches a live get.
    async fn queue(&mut self, joinable: bool) -> anyhow::Result<()> {
        let name = if joinable { "jobs-joinable" } else { "jobs" };
        let queue = if joinable {
            let queue = self.client.joinable_queue::<u64>(name, None).await?;
            (queue.id(), None, Some(queue))
        } else {
            let queue = self.client.queue::<u64>(name, None).await?;
            (queue.id(), Some(queue), None)
        };
        let id = queue.0;
        let mut doomed = self.open().await?;
        doomed
            .send(
                id,
                ObjectRequest::Queue(QueueRequest::Get {
                    wait: Wait::Forever,
                }),
            )
            .await?;
        // Answered after the get was parked.
        let len = doomed
            .call(id, ObjectRequest::Queue(QueueRequest::Len))
            .await?;
        ensure!(len == Ok(Reply::Count(0)), "queue not empty: {len:?}");
        self.prepare(&mut doomed).await?;
        match queue {
            (_, Some(queue), None) => {
                self.release_and_close(doomed, async { Ok(queue.put(&7).await?) })
                    .await?;
                let got = queue.get_timeout(DEADLINE).await.context("item lost")?;
                ensure!(got == 7);
                ensure!(queue.is_empty().await?, "an item was duplicated");
            }
            (_, None, Some(queue)) => {
                self.release_and_close(doomed, async { Ok(queue.put(&7).await?) })
                    .await?;
                let got = queue.get_timeout(DEADLINE).await.context("item lost")?;
                ensure!(got == 7);
                ensure!(queue.is_empty().await?, "an item was duplicated");
                // The item given back is not a new task: one task_done
                // finishes the queue's work.
                queue.task_done().await?;
                ensure!(
                    queue.join_timeout(Duration::ZERO).await?,
                    "the returned item counted as a new task"
                );
            }
            _ => unreachable!(),
        }
        Ok(())
    }

    /// An acquire (plain or owned) dies parked; the unit released right
    /// after reaches a live acquire.
    async fn semaphore(&mut self, owned: bool) -> anyhow::Result<()> {
        let name = if owned { "units-owned" } else { "units" };
        let semaphore = self.client.semaphore(name, 0).await?;
        let id = semaphore.id();
        let mut doomed = self.open().await?;
        let acquire = if owned {
            SemaphoreRequest::AcquireOwned {
                owner: Owner(1),
                wait: Wait::Forever,
            }
        } else {
            SemaphoreRequest::Acquire {
                wait: Wait::Forever,
            }
        };
        doomed.send(id, ObjectRequest::Semaphore(acquire)).await?;
        let value = doomed
            .call(id, ObjectRequest::Semaphore(SemaphoreRequest::Value))
            .await?;
        ensure!(value == Ok(Reply::Count(0)), "units available: {value:?}");
        self.prepare(&mut doomed).await?;
        self.release_and_close(doomed, async { Ok(semaphore.release().await?) })
            .await?;
        ensure!(
            semaphore.acquire_timeout(DEADLINE).await?,
            "the unit was lost"
        );
        ensure!(semaphore.value().await? == 0, "a unit was duplicated");
        Ok(())
    }

    /// An acquire dies parked behind the holder; the lock released right
    /// after reaches a live acquire.
    async fn lock(&mut self) -> anyhow::Result<()> {
        let lock = self.client.lock("mutex").await?;
        let id = lock.id();
        lock.acquire().await?;
        let mut doomed = self.open().await?;
        doomed
            .send(
                id,
                ObjectRequest::Lock(LockRequest::Acquire {
                    owner: Owner(1),
                    wait: Wait::Forever,
                }),
            )
            .await?;
        let waiting = doomed
            .call(id, ObjectRequest::Lock(LockRequest::NWaiting))
            .await?;
        ensure!(waiting == Ok(Reply::Count(1)), "not parked: {waiting:?}");
        self.prepare(&mut doomed).await?;
        self.release_and_close(doomed, async { Ok(lock.release().await?) })
            .await?;
        ensure!(lock.acquire_timeout(DEADLINE).await?, "the lock was lost");
        lock.release().await?;
        Ok(())
    }

    /// Two waits sleep on a condition, the first dies; a notify of one must
    /// wake the live one, and the lock must come back.
    async fn condition(&mut self) -> anyhow::Result<()> {
        let condition = self.client.condition("signal").await?;
        let id = condition.id();
        let mut doomed = self.open().await?;
        let mut live = self.open().await?;
        for waiter in [&mut doomed, &mut live] {
            sleep_on(waiter, id).await?;
        }
        self.prepare(&mut doomed).await?;
        self.release_and_close(doomed, async {
            condition.acquire().await?;
            condition.notify(1).await?;
            Ok(condition.release().await?)
        })
        .await?;
        // The live wait wakes, notified, with the lock.
        let woke = live.recv().await.context("the notify was lost")?;
        ensure!(
            woke.result
                == Ok(Reply::Woken {
                    notified: true,
                    holds: 1,
                    wait: woke.id,
                }),
            "woke with {woke:?}"
        );
        let released = live
            .call(
                id,
                ObjectRequest::Condition(ConditionRequest::Release { owner: Owner(1) }),
            )
            .await?;
        ensure!(released == Ok(Reply::Done), "{released:?}");
        ensure!(
            condition.acquire_timeout(DEADLINE).await?,
            "the condition's lock was lost"
        );
        condition.release().await?;
        Ok(())
    }
}

/// Takes the condition's lock on `connection` and waits on it, then makes
/// sure the manager has parked the wait: another owner of the same
/// connection can take the lock the wait gave up, and gives it back.
async fn sleep_on(
    connection: &mut RawConnection,
    id: manager_core::ObjectId,
) -> anyhow::Result<()> {
    let condition = ObjectRequest::Condition;
    let took = connection
        .call(
            id,
            condition(ConditionRequest::Acquire {
                owner: Owner(1),
                wait: Wait::For(DEADLINE),
            }),
        )
        .await?;
    ensure!(took == Ok(Reply::Bool(true)), "{took:?}");
    connection
        .send(
            id,
            condition(ConditionRequest::Wait {
                owner: Owner(1),
                wait: Wait::Forever,
            }),
        )
        .await?;
    let probe = connection
        .call(
            id,
            condition(ConditionRequest::Acquire {
                owner: Owner(2),
                wait: Wait::No,
            }),
        )
        .await?;
    ensure!(probe == Ok(Reply::Bool(true)), "wait not parked: {probe:?}");
    let released = connection
        .call(id, condition(ConditionRequest::Release { owner: Owner(2) }))
        .await?;
    ensure!(released == Ok(Reply::Done), "{released:?}");
    Ok(())
}

#[test]
fn queue_over_unix() -> anyhow::Result<()> {
    race(Transport::Unix, Kind::Queue)
}

#[test]
fn queue_over_tcp() -> anyhow::Result<()> {
    race(Transport::Tcp, Kind::Queue)
}

#[test]
fn joinable_queue_over_unix() -> anyhow::Result<()> {
    race(Transport::Unix, Kind::JoinableQueue)
}

#[test]
fn joinable_queue_over_tcp() -> anyhow::Result<()> {
    race(Transport::Tcp, Kind::JoinableQueue)
}

#[test]
fn semaphore_over_unix() -> anyhow::Result<()> {
    race(Transport::Unix, Kind::Semaphore)
}

#[test]
fn semaphore_over_tcp() -> anyhow::Result<()> {
    race(Transport::Tcp, Kind::Semaphore)
}

#[test]
fn owned_semaphore_over_unix() -> anyhow::Result<()> {
    race(Transport::Unix, Kind::OwnedSemaphore)
}

#[test]
fn owned_semaphore_over_tcp() -> anyhow::Result<()> {
    race(Transport::Tcp, Kind::OwnedSemaphore)
}

#[test]
fn lock_over_unix() -> anyhow::Result<()> {
    race(Transport::Unix, Kind::Lock)
}

#[test]
fn lock_over_tcp() -> anyhow::Result<()> {
    race(Transport::Tcp, Kind::Lock)
}

#[test]
fn condition_over_unix() -> anyhow::Result<()> {
    race(Transport::Unix, Kind::Condition)
}

#[test]
fn condition_over_tcp() -> anyhow::Result<()> {
    race(Transport::Tcp, Kind::Condition)
}

/// How many rounds with real worker processes, per kind.
const WORKER_ROUNDS: usize = 100;

#[test]
fn handoff_to_a_killed_worker_is_given_back() -> anyhow::Result<()> {
    use tests::queues::{Announce, GetWhenParked};
    let manager = tests::start_manager()?;
    let client = tests::connect(&manager)?;
    let jobs = client.queue::<u64>("jobs", None)?;
    let launcher = manager.launcher();
    for round in 0..WORKER_ROUNDS {
        let parked = client.event(&format!("parked-{round}"))?;
        let mut doomed = launcher.spawn_program(
            tests::worker_program!(),
            "get_when_parked",
            &GetWhenParked {
                // Every other round parks a bulk get: all it was handed
                // comes back too.
                many: (round % 2 == 1).then_some(8),
                queue: "jobs".into(),
                announce: Announce::SetEvent(format!("parked-{round}")),
                results: "results".into(),
            },
        )?;
        ensure!(parked.wait()?, "round {round}: the worker did not park");
        doomed.kill()?;
        let _ = doomed.join();
        let round = round as u64;
        let items = if round % 2 == 1 {
            vec![round, round + 1000, round + 2000]
        } else {
            vec![round]
        };
        ensure!(jobs.put_many(&items)? == items.len());
        let mut got = Vec::new();
        while got.len() < items.len() {
            let more = jobs.get_many_timeout(items.len(), DEADLINE)?;
            ensure!(!more.is_empty(), "round {round}: items lost, got {got:?}");
            got.extend(more);
        }
        ensure!(got == items, "round {round}: got {got:?}, put {items:?}");
    }
    Ok(())
}

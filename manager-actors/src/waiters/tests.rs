//! The waiters of a probe object: parks, timed waits, cancels and
//! closed connections, through a real actor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::Actor;
use manager_core::reply::Reply;
use manager_core::request::{LockRequest, ObjectRequest, Owner, Wait};
use manager_core::{ObjectId, ObjectKind, ObjectName};

use super::*;
use crate::actor::ObjectActor;
use crate::object::{ConnectionClosed, ObjectHandle, ObjectStats};
use crate::objects::testing::Conn;

/// What [`Probe`] saw, shared with the test.
#[derive(Debug, Default)]
struct Log {
    /// Every park's id, in order.
    parked: Vec<WaiterId>,
    /// The data of each wait that ended, in order.
    timed_out: Vec<u64>,
    /// How many deadlines the object had, and the deadline its timer
    /// was armed for, after the last request.
    deadlines: usize,
    armed_for: Option<Instant>,
}

/// A state that only parks, speaking the lock's requests: `Acquire`
/// parks (its data is its request id), `NWaiting` serves the front
/// one, `Release` of owner `n` takes the `n`-th park by id, and
/// `IsLocked` does nothing but let the state record the object's
/// deadlines.
#[derive(Debug)]
struct Probe {
    waiters: Waiters<u64>,
    log: Arc<Mutex<Log>>,
}

impl Probe {
    fn record(&self, ctx: &ObjectContext<'_, Self>) {
        let mut log = self.log.lock().unwrap();
        log.deadlines = ctx.deadlines().len();
        log.armed_for = ctx.deadlines().armed_for();
    }
}

impl ObjectState for Probe {
    type Request = LockRequest;

    fn handle(&mut self, request: LockRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        match request {
            LockRequest::Acquire { wait, .. } => {
                let data = caller.id.0;
                if let Some(id) = self.waiters.park(caller, data, wait, ctx) {
                    self.log.lock().unwrap().parked.push(id);
                }
            }
            // The request's own reply goes first, then the served one's.
            LockRequest::NWaiting => {
                caller.reply(Ok(Reply::Done));
                if let Some(waiter) = self.waiters.pop_front(ctx) {
                    waiter.caller.reply(Ok(Reply::Bool(true)));
                }
            }
            LockRequest::Release { owner } => {
                caller.reply(Ok(Reply::Done));
                let id = self.log.lock().unwrap().parked[owner.0 as usize];
                if let Some(waiter) = self.waiters.take(id, ctx) {
                    assert_eq!(waiter.id, id);
                    waiter.caller.reply(Ok(Reply::Bool(true)));
                }
            }
            _ => caller.reply(Ok(Reply::Done)),
        }
        self.record(ctx);
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        let waiter = self
            .waiters
            .take(waiter, ctx)
            .expect("only a parked wait ends");
        self.log.lock().unwrap().timed_out.push(waiter.data);
        waiter.caller.reply(Ok(Reply::Bool(false)));
        self.record(ctx);
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        self.waiters.drop_connection(connection, ctx);
        self.record(ctx);
    }
}

/// A started probe object and its log.
fn probe() -> (ObjectHandle, Arc<Mutex<Log>>) {
    let log = Arc::new(Mutex::new(Log::default()));
    let stats = Arc::new(ObjectStats::new());
    let state = Probe {
        waiters: Waiters::default(),
        log: log.clone(),
    };
    let actor = ObjectActor::new(
        ObjectId(1),
        ObjectName::new("probe").unwrap(),
        ObjectKind::Lock,
        state,
        stats.clone(),
    )
    .start();
    let handle = ObjectHandle {
        id: ObjectId(1),
        kind: ObjectKind::Lock,
        mailbox: actor.clone().recipient(),
        closed: actor.clone().recipient(),
        report: actor.recipient(),
        stats,
    };
    (handle, log)
}

fn wait_for(after: Duration) -> ObjectRequest {
    ObjectRequest::Lock(LockRequest::Acquire {
        owner: Owner(0),
        wait: Wait::For(after),
    })
}

const FOREVER: ObjectRequest = ObjectRequest::Lock(LockRequest::Acquire {
    owner: Owner(0),
    wait: Wait::Forever,
});
const SERVE_FRONT: ObjectRequest = ObjectRequest::Lock(LockRequest::NWaiting);
const RECORD: ObjectRequest = ObjectRequest::Lock(LockRequest::IsLocked);

fn take_nth(n: u64) -> ObjectRequest {
    ObjectRequest::Lock(LockRequest::Release { owner: Owner(n) })
}

/// The object's deadline count and armed deadline, once it has handled
/// every earlier request of `conn`.
async fn deadlines(
    conn: &mut Conn,
    object: &ObjectHandle,
    log: &Mutex<Log>,
) -> (usize, Option<Instant>) {
    conn.call(object, RECORD).await.unwrap();
    let log = log.lock().unwrap();
    (log.deadlines, log.armed_for)
}

#[actix::test]
async fn timed_waits_end_in_deadline_order() {
    let (object, log) = probe();
    let mut conn = Conn::new(1);
    let slow = conn.send(&object, wait_for(Duration::from_secs(1))).await;
    let fast = conn
        .send(&object, wait_for(Duration::from_millis(20)))
        .await;
    let forever = conn.send(&object, FOREVER).await;
    let middle = conn
        .send(&object, wait_for(Duration::from_millis(500)))
        .await;
    for expected in [fast, middle, slow] {
        assert_eq!(conn.later(expected).await, Ok(Reply::Bool(false)));
    }
    assert_eq!(log.lock().unwrap().timed_out, [fast.0, middle.0, slow.0]);
    assert_eq!(
        deadlines(&mut conn, &object, &log).await,
        (0, None),
        "no deadline and no timer left once the timed waits ended"
    );
    // The wait without a deadline is still parked.
    assert_eq!(conn.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
    let served = conn.next().await;
    assert_eq!((served.id, served.result), (forever, Ok(Reply::Bool(true))));
}

#[actix::test]
async fn an_earlier_deadline_rearms_the_timer() {
    let (object, log) = probe();
    let mut conn = Conn::new(1);
    conn.send(&object, wait_for(Duration::from_secs(600))).await;
    let (n, late) = deadlines(&mut conn, &object, &log).await;
    let late = late.expect("armed for the only deadline");
    assert_eq!(n, 1);

    let early = conn
        .send(&object, wait_for(Duration::from_millis(20)))
        .await;
    let (n, armed) = deadlines(&mut conn, &object, &log).await;
    assert_eq!(n, 2);
    assert!(armed.expect("armed") < late, "armed for the earlier one");

    assert_eq!(conn.later(early).await, Ok(Reply::Bool(false)));
    assert_eq!(
        deadlines(&mut conn, &object, &log).await,
        (1, Some(late)),
        "armed again for the next deadline once the earlier one ended"
    );

    // A later deadline does not move the timer.
    conn.send(&object, wait_for(Duration::from_secs(900))).await;
    assert_eq!(deadlines(&mut conn, &object, &log).await, (2, Some(late)));
}

/// A closed connection's requests leave, whatever their share of the
/// parked ones (one by one, the map rebuilt, the map taken whole),
/// and the others stay in arrival order with their deadlines.
#[actix::test]
async fn a_closed_connections_requests_leave_whatever_their_share() {
    let (object, log) = probe();
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    let long = Duration::from_secs(600);
    let mut kept = Vec::new();
    for i in 0..40 {
        if i % 4 == 0 {
            kept.push(a.send(&object, wait_for(long)).await);
        } else {
            b.send(&object, wait_for(long)).await;
        }
        if i == 20 {
            c.send(&object, FOREVER).await;
        }
    }
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 40);
    // One of 41: taken out by id.
    c.close(&[&object]).await;
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 40);
    // 30 of 40: the map is rebuilt without them.
    b.close(&[&object]).await;
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 10);
    for expected in kept.drain(..5) {
        assert_eq!(a.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
        assert_eq!(a.next().await.id, expected);
    }
    // All that are left: the map goes whole.
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 5);
    a.close(&[&object]).await;
    let mut e = Conn::new(5);
    assert_eq!(deadlines(&mut e, &object, &log).await, (0, None));
    assert_eq!(e.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
    e.nothing();
}

#[actix::test]
async fn take_and_remove_keep_the_deadlines_in_step() {
    let (object, log) = probe();
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    let long = Duration::from_secs(600);
    // Parks 0 to 5: a, b, a (forever), b, a, a (`Wait::No`).
    let a0 = a.send(&object, wait_for(long)).await;
    b.send(&object, wait_for(long)).await;
    let a2 = a.send(&object, FOREVER).await;
    b.send(&object, wait_for(long)).await;
    let a4 = a.send(&object, wait_for(long)).await;
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 4);

    // `Wait::No`, parked anyway, ends at once.
    let now = a
        .send(
            &object,
            ObjectRequest::Lock(LockRequest::Acquire {
                owner: Owner(0),
                wait: Wait::No,
            }),
        )
        .await;
    assert_eq!(a.later(now).await, Ok(Reply::Bool(false)));
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 4);

    // Taken by id.
    assert_eq!(a.call(&object, take_nth(4)).await, Ok(Reply::Done));
    let taken = a.next().await;
    assert_eq!((taken.id, taken.result), (a4, Ok(Reply::Bool(true))));
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 3);
    // Taken again: nothing there, nothing changes.
    assert_eq!(a.call(&object, take_nth(4)).await, Ok(Reply::Done));
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 3);

    // Removed with its connection: both of b's.
    b.close(&[&object]).await;
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 1);

    // Served from the front, in arrival order.
    for expected in [a0, a2] {
        assert_eq!(a.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
        let served = a.next().await;
        assert_eq!(
            (served.id, served.result),
            (expected, Ok(Reply::Bool(true)))
        );
    }
    assert_eq!(
        deadlines(&mut a, &object, &log).await,
        (0, None),
        "no timer left once nothing is parked"
    );
    assert!(
        log.lock().unwrap().timed_out.len() == 1,
        "only `Wait::No` ended"
    );
    a.close(&[&object]).await;
    // The object is still well: a connection with nothing parked closes.
    object
        .closed
        .send(ConnectionClosed(ConnectionId(3)))
        .await
        .unwrap();
}

#[actix::test]
async fn many_timed_waits_end_in_arrival_order() {
    let (object, log) = probe();
    let mut conn = Conn::new(1);
    let n = 2_000;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(
            conn.send(&object, wait_for(Duration::from_millis(50)))
                .await,
        );
    }
    for id in &ids {
        assert_eq!(conn.later(*id).await, Ok(Reply::Bool(false)));
    }
    let ids: Vec<_> = ids.iter().map(|id| id.0).collect();
    assert_eq!(log.lock().unwrap().timed_out, ids, "in arrival order");
    assert_eq!(deadlines(&mut conn, &object, &log).await, (0, None));
}

#[actix::test]
async fn parked_requests_are_capped_per_connection_and_counted_until_they_leave() {
    let (object, log) = probe();
    let (other, _other_log) = probe();
    let (mut a, mut b) = (Conn::with_max_parked(1, 3), Conn::new(2));
    let long = Duration::from_secs(600);
    // Parks 0 to 2 (the third on another object): a's three.
    let a0 = a.send(&object, wait_for(long)).await;
    let a1 = a.send(&object, FOREVER).await;
    let on_other = a.send(&other, FOREVER).await;
    assert_eq!(a.sink().parked(), 3);
    // The fourth is refused at once, and nothing is parked for it.
    let limit = Err(manager_core::ManagerError::LimitReached {
        what: "parked requests on this connection".into(),
        max: 3,
    });
    assert_eq!(a.call(&object, wait_for(long)).await, limit);
    assert_eq!(a.call(&object, FOREVER).await, limit);
    assert_eq!(deadlines(&mut a, &object, &log).await.0, 1);
    assert_eq!(log.lock().unwrap().parked.len(), 2);
    // Another connection parks as before.
    b.send(&object, FOREVER).await;
    b.send(&object, wait_for(Duration::from_millis(10))).await;
    assert_eq!(b.sink().parked(), 2);

    // Served from the front: a's place is free before its answer comes.
    assert_eq!(b.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
    let served = a.next().await;
    assert_eq!((served.id, served.result), (a0, Ok(Reply::Bool(true))));
    assert_eq!(a.sink().parked(), 2);
    // Taken by id (park 1 is a1).
    assert_eq!(b.call(&object, take_nth(1)).await, Ok(Reply::Done));
    let taken = a.next().await;
    assert_eq!((taken.id, taken.result), (a1, Ok(Reply::Bool(true))));
    assert_eq!(a.sink().parked(), 1);
    // Timed out: b's short wait.
    assert_eq!(b.next().await.result, Ok(Reply::Bool(false)));
    assert_eq!(b.sink().parked(), 1);

    // a parks up to its cap again, then its connection closes.
    a.send(&object, FOREVER).await;
    a.send(&object, wait_for(long)).await;
    assert_eq!(a.sink().parked(), 3);
    assert_eq!(a.call(&other, FOREVER).await, limit);
    assert_eq!(a.call(&other, take_nth(0)).await, Ok(Reply::Done));
    let freed = a.next().await;
    assert_eq!((freed.id, freed.result), (on_other, Ok(Reply::Bool(true))));
    assert_eq!(a.sink().parked(), 2);
    object
        .closed
        .send(ConnectionClosed(ConnectionId(1)))
        .await
        .unwrap();
    assert_eq!(a.sink().parked(), 0, "dropped with its connection");
    assert_eq!(b.sink().parked(), 1, "b's wait stays");
}

/// Not a test but a measurement (`cargo test --release -p
/// manager-actors --lib measure_ -- --ignored --nocapture`): parks
/// 40,000 timed gets on one queue in one batch, so their deadlines lie
/// within the few milliseconds it takes to park them, and times a `len`
/// on that queue and on another while they are parked and while they
/// end. Everything runs on one thread, as the manager's actors do, so
/// a probe's latency is how long the actor thread was busy.
#[actix::test]
#[ignore = "a measurement, not a test"]
async fn measure_expiry_of_40k_timed_gets() {
    use manager_core::ObjectSpec;
    use manager_core::request::QueueRequest;

    use crate::objects::testing::Harness;

    const N: usize = 40_000;
    const WAIT: Duration = Duration::from_millis(1500);
    let h = Harness::new();
    let spec = ObjectSpec::Queue { maxsize: None };
    let burst = h.object("burst", spec.clone()).await;
    let other = h.object("other", spec).await;
    let (mut waiter, mut prober) = (Conn::new(1), Conn::new(2));
    let len = || ObjectRequest::Queue(QueueRequest::Len);
    let mut probe = async |object: &ObjectHandle| {
        let start = Instant::now();
        prober.call(object, len()).await.unwrap();
        start.elapsed()
    };
    let summary = |mut v: Vec<Duration>| {
        v.sort_unstable();
        format!(
            "n={:<6} median {:>10.3?}  max {:>10.3?}",
            v.len(),
            v[v.len() / 2],
            v[v.len() - 1]
        )
    };

    let start = Instant::now();
    let gets = (0..N)
        .map(|_| {
            ObjectRequest::Queue(QueueRequest::Get {
                wait: Wait::For(WAIT),
            })
        })
        .collect();
    waiter.send_batch(&burst, gets).await;
    let parked = start.elapsed();

    let (mut same, mut another) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        same.push(probe(&burst).await);
        another.push(probe(&other).await);
    }
    println!("{N} timed gets parked in one batch in {parked:.3?}");
    println!("all parked, len on the same queue:  {}", summary(same));
    println!("all parked, len on another queue:   {}", summary(another));
    assert!(start.elapsed() < WAIT, "the probes ran into the expiry");

    let (mut same, mut another) = (Vec::new(), Vec::new());
    let (mut ended, mut first, mut last) = (0, None, start);
    while ended < N {
        same.push(probe(&burst).await);
        another.push(probe(&other).await);
        while let Some(reply) = waiter.ready() {
            assert!(reply.result.is_err(), "a get ended with an item");
            ended += 1;
            first.get_or_insert_with(Instant::now);
            last = Instant::now();
        }
    }
    let first = first.unwrap_or(last);
    println!(
        "expiry: the first Empty {:.3?} after the batch's first deadline; \
         all {N} within {:.3?} of the first",
        first.saturating_duration_since(start + WAIT),
        last - first
    );
    println!("expiring, len on the same queue:    {}", summary(same));
    println!("expiring, len on another queue:     {}", summary(another));
}

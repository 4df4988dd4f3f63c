//! Calls against a scripted manager on a real socket, which answers in an
//! order a real manager reaches only under load.

use std::time::Duration;

use manager_core::ObjectId;
use manager_core::reply::{Reply, ReplyFrame};
use manager_core::request::{
    LockRequest, ObjectRequest, Owner, Request, RequestFrame, RequestId, Wait,
};

use super::*;
use crate::frame::{DEFAULT_MAX_FRAME, write_one};
use crate::handshake::Session;

/// How long any step of the script may take.
const STEP: Duration = Duration::from_secs(10);

/// The object the scripted calls go to, and their owner.
const TARGET: ObjectId = ObjectId(7);
const OWNER: Owner = Owner(1);

/// A manager that runs `script` on the one connection it accepts, after
/// the handshake, on a thread of its own; its address and key, and the
/// thread, which returns what the script returns.
fn scripted_manager<F, Fut>(
    script: F,
) -> (
    Address,
    AuthKey,
    std::thread::JoinHandle<Result<Fut::Output, String>>,
)
where
    F: FnOnce(tokio::net::TcpStream, FrameBuffer) -> Fut + Send + 'static,
    Fut: std::future::Future + 'static,
    Fut::Output: Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = Address::Tcp(listener.local_addr().expect("address"));
    let key = AuthKey::random().expect("key");
    let manager_key = key.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            listener.set_nonblocking(true).map_err(|e| e.to_string())?;
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
            let run = async {
                let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
                let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
                let session = Session {
                    connection: 1,
                    manager: 2,
                    max_frame: DEFAULT_MAX_FRAME,
                };
                handshake::accept(&mut stream, &mut buf, &manager_key, session, || Ok(()))
                    .await
                    .map_err(|e| e.to_string())?;
                buf.set_max_frame(DEFAULT_MAX_FRAME);
                Ok(script(stream, buf).await)
            };
            tokio::time::timeout(STEP, run)
                .await
                .map_err(|_| format!("the script did not end within {STEP:?}"))?
        })
    });
    (address, key, thread)
}

/// A client connection driven as a blocking client drives it (only while
/// a call runs), which settles its give-ups; and its runtime.
fn blocking_connection(
    address: &Address,
    key: &AuthKey,
) -> (Arc<tokio::runtime::Runtime>, Connection) {
    let rt = Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let connection = rt
        .block_on(async { tokio::time::timeout(STEP, Connection::connect(address, key)).await })
        .expect("connected in time")
        .expect("connect");
    connection.settle_give_ups(&rt);
    (rt, connection)
}

/// The lock acquire of [`OWNER`] on [`TARGET`], waiting for ever, that the
/// tests' calls make.
fn acquire_request() -> Request {
    Request::Object {
        target: TARGET,
        op: ObjectRequest::Lock(LockRequest::Acquire {
            owner: OWNER,
            wait: Wait::Forever,
        }),
    }
}

/// The release of [`OWNER`]'s hold on [`TARGET`]: what gives back a
/// granted [`acquire_request`].
fn release_request() -> Request {
    Request::Object {
        target: TARGET,
        op: ObjectRequest::Lock(LockRequest::Release { owner: OWNER }),
    }
}

/// A script's step: nothing more comes from the client but its end.
async fn expect_the_end(
    stream: &mut tokio::net::TcpStream,
    buf: &mut FrameBuffer,
) -> Result<(), String> {
    match buf.read_one::<RequestFrame, _>(stream).await {
        Ok(frame) => Err(format!("expected the end, got {:?}", frame.request)),
        Err(_) => Ok(()),
    }
}

/// What the scripted manager's script returned, once its thread ends.
///
/// # Panics
///
/// If the thread panicked, the script did not end within [`STEP`], or a
/// step failed.
fn script_outcome<T>(manager: std::thread::JoinHandle<Result<Result<T, String>, String>>) -> T {
    manager
        .join()
        .expect("the script ran")
        .expect("the script")
        .expect("its steps")
}

/// Runs an acquire of [`TARGET`] with a 50 ms deadline, which takes the
/// lock if granted; its result.
fn acquire_within_50ms(
    rt: &tokio::runtime::Runtime,
    connection: &Connection,
) -> Result<Reply, Error> {
    let acquire = acquire_request();
    let call = connection.call_within(
        acquire.clone(),
        Some(Duration::from_millis(50)),
        Some(acquire),
    );
    rt.block_on(async { tokio::time::timeout(STEP, call).await })
        .expect("the call returned")
}

/// Reads the acquire and then its cancel, sent as the call reaches its
/// deadline; the two ids.
async fn read_acquire_and_cancel(
    stream: &mut tokio::net::TcpStream,
    buf: &mut FrameBuffer,
) -> Result<(RequestId, RequestId), String> {
    let acquire: RequestFrame = buf.read_one(stream).await.map_err(|e| e.to_string())?;
    let cancel: RequestFrame = buf.read_one(stream).await.map_err(|e| e.to_string())?;
    let expected = Request::Object {
        target: TARGET,
        op: ObjectRequest::Cancel {
            request: acquire.id,
        },
    };
    if cancel.request != expected {
        return Err(format!(
            "expected the acquire's cancel, got {:?}",
            cancel.request
        ));
    }
    Ok((acquire.id, cancel.id))
}

/// A blocking client's connection reads replies only while a call runs.
/// A lock granted just as the call's deadline passed (the grant crosses
/// the call's cancel) is given back before the call returns, not at the
/// client's next call, which may never come.
#[test]
fn a_grant_crossing_the_cancel_is_given_back_before_the_call_returns() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        let (acquire, cancel) = read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // The grant was on its way: the cancel takes nothing back.
        for (id, reply) in [(acquire, Reply::Bool(true)), (cancel, Reply::Bool(false))] {
            write_one(
                &mut stream,
                &ReplyFrame {
                    id,
                    result: Ok(reply),
                },
                DEFAULT_MAX_FRAME,
            )
            .await
            .map_err(|e| e.to_string())?;
        }
        let next: RequestFrame = buf.read_one(&mut stream).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(next.request)
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let result = acquire_within_50ms(&rt, &connection);
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    // No call runs now: what the manager gets next was sent before the
    // call returned.
    let next = script_outcome(manager);
    assert_eq!(next, release_request(), "the late grant was given back");
}

/// A manager that never answers the cancel holds the call up no longer
/// than its deadline again, and the cancel is sent once.
#[test]
fn a_cancel_never_answered_holds_the_call_up_for_a_bounded_time() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // Nothing is answered; the next thing to come is the client's end.
        expect_the_end(&mut stream, &mut buf).await
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let started = std::time::Instant::now();
    let result = acquire_within_50ms(&rt, &connection);
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    // 50 ms, then at most 50 ms more: well within the step's bound.
    assert!(
        started.elapsed() < STEP,
        "the call returned after {:?}",
        started.elapsed()
    );
    // The cancel is still unanswered, so the settler drives the runtime;
    // dropping the connection ends it, and with it its hold on the
    // runtime.
    assert!(connection.settler_runs(), "a settler reads on");
    drop(connection);
    wait_until("the settler lets go of the runtime", || {
        Arc::strong_count(&rt) == 1
    });
    drop(rt);
    script_outcome(manager);
}

/// Waits until `done` holds, checking every millisecond, for at most
/// [`STEP`]; panics naming `what` if it does not.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + STEP;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {STEP:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Writes the reply `reply` to request `id`.
async fn answer(
    stream: &mut tokio::net::TcpStream,
    id: RequestId,
    reply: Reply,
) -> Result<(), String> {
    write_one(
        stream,
        &ReplyFrame {
            id,
            result: Ok(reply),
        },
        DEFAULT_MAX_FRAME,
    )
    .await
    .map_err(|e| e.to_string())
}

/// The settle wait is bounded (at most `GIVE_UP_WAIT`, here the call's
/// 50 ms): a grant that comes after it, to a client that makes no further
/// call, is read and given back by the settler, so the lock is not left
/// held by a caller that was told its acquire failed. (Failed before the
/// settler: the grant stayed unread until the client's next call.)
#[test]
fn a_grant_after_the_settle_wait_is_given_back_without_another_call() {
    let (returned_tx, returned_rx) = tokio::sync::oneshot::channel::<()>();
    let (address, key, manager) = scripted_manager(move |mut stream, mut buf| async move {
        let (acquire, cancel) = read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // A busy manager: the grant goes out only once the client's call
        // has returned (its settle wait is over).
        returned_rx.await.map_err(|e| e.to_string())?;
        answer(&mut stream, acquire, Reply::Bool(true)).await?;
        answer(&mut stream, cancel, Reply::Bool(false)).await?;
        // The release should come without the client making another call.
        match tokio::time::timeout(
            Duration::from_secs(3),
            buf.read_one::<RequestFrame, _>(&mut stream),
        )
        .await
        {
            Ok(Ok(frame)) => Ok::<_, String>(Some(frame.request)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Ok(None),
        }
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let result = acquire_within_50ms(&rt, &connection);
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    returned_tx.send(()).expect("the script waits");
    let next = script_outcome(manager);
    assert_eq!(
        next,
        Some(release_request()),
        "a grant that came after the settle wait was never given back \
         (the client made no further call)"
    );
    // Nothing is left to settle: the settler ends.
    wait_until("the settler ends", || !connection.settler_runs());
    drop(connection);
    drop(rt);
}

/// A manager that closes the connection while a call waits out its
/// cancel ends that wait at once: the call does not sit out the rest of
/// its settle wait. (It reports the timeout it reached.)
#[test]
fn the_connection_closing_during_the_settle_wait_ends_the_call_at_once() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // The manager's end: the connection closes with nothing answered.
        drop(stream);
        Ok::<_, String>(())
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let acquire = acquire_request();
    // A 1 s deadline: the settle wait would be 1 s more.
    let deadline = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let call = connection.call_within(acquire.clone(), Some(deadline), Some(acquire));
    let result = rt
        .block_on(async { tokio::time::timeout(STEP, call).await })
        .expect("the call returned");
    let took = started.elapsed();
    script_outcome(manager);
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    assert!(
        took < deadline + GIVE_UP_WAIT * 3 / 4,
        "the call sat out its settle wait after the connection closed: {took:?}"
    );
    // The next call learns the manager is gone.
    let next = rt.block_on(connection.call_within(release_request(), Some(STEP), None));
    assert!(
        matches!(
            next,
            Err(Error::ManagerGone { .. } | Error::Disconnected { .. })
        ),
        "{next:?}"
    );
}

/// Two threads share one blocking connection: while one call waits out
/// its cancel, another thread's call is answered as its reply comes, not
/// held up until the settle wait ends, and neither takes the other's
/// reply.
#[test]
fn a_settle_wait_holds_up_no_other_thread() {
    let (settling_tx, settling_rx) = std::sync::mpsc::channel::<()>();
    let (address, key, manager) = scripted_manager(move |mut stream, mut buf| async move {
        read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // The acquire's call now waits out its cancel: let the other
        // thread call.
        settling_tx.send(()).map_err(|e| e.to_string())?;
        let other: RequestFrame = buf.read_one(&mut stream).await.map_err(|e| e.to_string())?;
        answer(&mut stream, other.id, Reply::Count(42)).await?;
        // The acquire is never answered; the next thing is the end.
        expect_the_end(&mut stream, &mut buf).await
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let acquire = acquire_request();
    let deadline = Duration::from_millis(300);
    let (a_done_tx, a_done_rx) = std::sync::mpsc::channel();
    let settler = {
        let rt = rt.clone();
        let connection = connection.clone();
        std::thread::spawn(move || {
            let call = connection.call_within(acquire.clone(), Some(deadline), Some(acquire));
            let result = rt.block_on(async { tokio::time::timeout(STEP, call).await });
            let _ = a_done_tx.send(());
            result
        })
    };
    settling_rx.recv_timeout(STEP).expect("the acquire gave up");
    let other = Request::Object {
        target: TARGET,
        op: ObjectRequest::Lock(LockRequest::Release { owner: Owner(2) }),
    };
    let reply = rt
        .block_on(async {
            tokio::time::timeout(STEP, connection.call_within(other, Some(STEP), None)).await
        })
        .expect("the other call returned");
    // The settle wait (300 ms) is not over yet when the other call has
    // its answer.
    let a_still_settling = a_done_rx.try_recv().is_err();
    assert!(matches!(reply, Ok(Reply::Count(42))), "{reply:?}");
    let result = settler
        .join()
        .expect("the settling thread")
        .expect("returned in time");
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    assert!(
        a_still_settling,
        "the other thread's call waited for the settle wait to end"
    );
    drop(connection);
    drop(rt);
    script_outcome(manager);
}

/// A call whose deadline is zero gives up at once, and its cancel still
/// goes out before it returns, as it did before a blocking client settled
/// its give-ups: otherwise the request stays parked in the manager, takes
/// the lock when it is freed, and nobody reads that grant until the
/// client's next call.
///
/// `cancel_now` sends the cancel while the call is still among the waiting, so the outbox queues it for its
/// flush task, which runs only while a call runs; it does run, as even a
/// zero settle wait is pending once.
#[test]
fn a_call_with_a_zero_deadline_sends_its_cancel_before_it_returns() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        let acquire: RequestFrame = buf.read_one(&mut stream).await.map_err(|e| e.to_string())?;
        match tokio::time::timeout(
            Duration::from_secs(3),
            buf.read_one::<RequestFrame, _>(&mut stream),
        )
        .await
        {
            Ok(Ok(frame)) => Ok::<_, String>(Some((acquire.id, frame.request))),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Ok(None),
        }
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let acquire = acquire_request();
    let call = connection.call_within(acquire.clone(), Some(Duration::ZERO), Some(acquire));
    let result = rt
        .block_on(async { tokio::time::timeout(STEP, call).await })
        .expect("the call returned");
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    let next = script_outcome(manager);
    let Some((acquire_id, next)) = next else {
        panic!("the cancel was never sent: the acquire stays parked in the manager");
    };
    assert_eq!(
        next,
        Request::Object {
            target: TARGET,
            op: ObjectRequest::Cancel {
                request: acquire_id
            },
        }
    );
    drop(connection);
    drop(rt);
}

/// The manager's last word (a reply to `RequestId::CONNECTION`: why it
/// closes the connection) ends a settler that waits for a given-up call's
/// answer, as the connection's close does: it does not hold its thread and
/// the runtime while the client's handles live.
#[test]
fn the_managers_last_word_ends_the_settler() {
    let (returned_tx, returned_rx) = tokio::sync::oneshot::channel::<()>();
    let (address, key, manager) = scripted_manager(move |mut stream, mut buf| async move {
        read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // The call has given up and its settle wait is over: a settler
        // waits for the answer. The manager shuts down instead.
        returned_rx.await.map_err(|e| e.to_string())?;
        write_one(
            &mut stream,
            &ReplyFrame {
                id: RequestId::CONNECTION,
                result: Err(manager_core::ManagerError::ShuttingDown),
            },
            DEFAULT_MAX_FRAME,
        )
        .await
        .map_err(|e| e.to_string())?;
        // And closes the connection.
        drop(stream);
        Ok::<_, String>(())
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let result = acquire_within_50ms(&rt, &connection);
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    assert!(connection.settler_runs(), "a settler reads on");
    returned_tx.send(()).expect("the script waits");
    script_outcome(manager);
    wait_until("the settler ends once the connection is closed", || {
        !connection.settler_runs()
    });
    wait_until("the settler lets go of the runtime", || {
        Arc::strong_count(&rt) == 1
    });
    drop(connection);
    drop(rt);
}

/// A connection whose runtime is gone before its reader task ever ran (a
/// blocking client dropped before its first call, whose async client
/// lives on) is closed: its calls fail at once, and no settler starts
/// (one did, and with no runtime to drive it went round in a busy loop).
#[test]
fn a_connection_whose_runtime_went_before_its_reader_ran_is_closed() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        // Nothing comes but the client's end.
        expect_the_end(&mut stream, &mut buf).await
    });
    let (rt, connection) = blocking_connection(&address, &key);
    drop(rt);
    let other = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let acquire = acquire_request();
    let call = connection.call_within(
        acquire.clone(),
        Some(Duration::from_millis(50)),
        Some(acquire),
    );
    let result = other
        .block_on(async { tokio::time::timeout(STEP, call).await })
        .expect("the call returned");
    assert!(
        matches!(
            result,
            Err(Error::ManagerGone { .. } | Error::Disconnected { .. })
        ),
        "the call on a closed connection: {result:?}"
    );
    assert!(!connection.settler_runs(), "no settler runs");
    drop(connection);
    script_outcome(manager);
}

/// While a settler drives the runtime (a cancel unanswered), another call on the connection from a user
/// thread is answered as its reply comes; the late grant, sent in the
/// same write as that reply, is given back exactly once, whichever thread
/// holds the runtime's core when it is read; and the settler then ends.
#[test]
fn a_call_made_while_a_settler_runs_is_answered_and_the_grant_given_back_once() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        let (acquire, cancel) = read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // The call gave up (its settle wait is over by the time the
        // client's next call comes): a settler reads on.
        let other: RequestFrame = buf.read_one(&mut stream).await.map_err(|e| e.to_string())?;
        // All three answers in one go.
        let mut bytes = Vec::new();
        for (id, reply) in [
            (acquire, Reply::Bool(true)),
            (cancel, Reply::Bool(false)),
            (other.id, Reply::Count(42)),
        ] {
            encode_frame(
                &ReplyFrame {
                    id,
                    result: Ok(reply),
                },
                &mut bytes,
                DEFAULT_MAX_FRAME,
            )
            .map_err(|e| e.to_string())?;
        }
        tokio::io::AsyncWriteExt::write_all(&mut stream, &bytes)
            .await
            .map_err(|e| e.to_string())?;
        // Everything the client sends until its end.
        let mut after = Vec::new();
        while let Ok(frame) = buf.read_one::<RequestFrame, _>(&mut stream).await {
            after.push(frame.request);
        }
        Ok::<_, String>(after)
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let result = acquire_within_50ms(&rt, &connection);
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    assert!(connection.settler_runs(), "a settler reads on");
    let other = Request::Object {
        target: ObjectId(8),
        op: ObjectRequest::Lock(LockRequest::Release { owner: Owner(2) }),
    };
    let reply = rt
        .block_on(async {
            tokio::time::timeout(STEP, connection.call_within(other, Some(STEP), None)).await
        })
        .expect("the other call returned in time");
    assert!(matches!(reply, Ok(Reply::Count(42))), "{reply:?}");
    wait_until("the settler ends", || !connection.settler_runs());
    wait_until("the settler lets go of the runtime", || {
        Arc::strong_count(&rt) == 1
    });
    drop(connection);
    drop(rt);
    let after = script_outcome(manager);
    assert_eq!(
        after,
        vec![release_request()],
        "the late grant is given back once"
    );
}

/// While a settler holds the runtime's core (a cancel never answered), a
/// user thread's call on the connection still reaches its deadline: its
/// timer, registered from a thread without the core, wakes the settler's
/// driver.
#[test]
fn a_call_made_while_a_settler_waits_still_reaches_its_deadline() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        read_acquire_and_cancel(&mut stream, &mut buf).await?;
        read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // Nothing is answered; the next thing to come is the client's end.
        expect_the_end(&mut stream, &mut buf).await
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let result = acquire_within_50ms(&rt, &connection);
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    assert!(connection.settler_runs(), "a settler reads on");
    // The settler has the core now (it waits for the cancel's answer).
    wait_until("the settler drives the runtime", || {
        Arc::strong_count(&rt) == 2
    });
    // On a thread of its own, so that a timer nobody drives fails the
    // test instead of hanging it (the call's own bound is on the runtime).
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let caller = {
        let (rt, connection) = (rt.clone(), connection.clone());
        std::thread::spawn(move || {
            let _ = done_tx.send(acquire_within_50ms(&rt, &connection));
        })
    };
    let result = done_rx
        .recv_timeout(STEP)
        .expect("a call made while the settler ran reached its deadline");
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    caller.join().expect("the caller");
    drop(connection);
    wait_until("the settler lets go of the runtime", || {
        Arc::strong_count(&rt) == 1
    });
    drop(rt);
    script_outcome(manager);
}

/// give-ups racing the settler's end.
/// Two threads share one blocking connection and each gives up on many
/// acquires at once (a zero deadline: the settle wait is over at its first
/// look); the manager grants each as soon as it reads its cancel, so
/// settlers start and end all the while. Every grant is given back
/// exactly once, with no further call, and the settler ends.
#[test]
fn give_ups_racing_the_settlers_end_give_every_grant_back_once() {
    const THREADS: u64 = 2;
    const ROUNDS: u64 = 150;
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        let mut releases = std::collections::HashMap::<Owner, u64>::new();
        let mut total = 0;
        // Until the client's end.
        while let Ok(frame) = buf.read_one::<RequestFrame, _>(&mut stream).await {
            match frame.request {
                Request::Object {
                    op: ObjectRequest::Lock(LockRequest::Acquire { .. }),
                    ..
                } => {}
                Request::Object {
                    op: ObjectRequest::Cancel { request },
                    ..
                } => {
                    // The grant crossed the cancel.
                    answer(&mut stream, request, Reply::Bool(true)).await?;
                    answer(&mut stream, frame.id, Reply::Bool(false)).await?;
                }
                Request::Object {
                    op: ObjectRequest::Lock(LockRequest::Release { owner }),
                    ..
                } => {
                    *releases.entry(owner).or_default() += 1;
                    total += 1;
                }
                other => return Err(format!("unexpected {other:?}")),
            }
        }
        Ok::<_, String>((total, releases))
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let rt = rt.clone();
            let connection = connection.clone();
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let acquire = Request::Object {
                        target: TARGET,
                        op: ObjectRequest::Lock(LockRequest::Acquire {
                            owner: Owner(10 + n),
                            wait: Wait::Forever,
                        }),
                    };
                    let call = connection.call_within(
                        acquire.clone(),
                        Some(Duration::ZERO),
                        Some(acquire),
                    );
                    let result = rt
                        .block_on(async { tokio::time::timeout(STEP, call).await })
                        .expect("the call returned");
                    assert!(
                        matches!(result, Err(Error::Timeout { .. })),
                        "the call gave up: {result:?}"
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a calling thread");
    }
    // No further call: the settler reads every answer, gives every grant
    // back, and ends.
    wait_until("the settler ends", || !connection.settler_runs());
    wait_until("the settler lets go of the runtime", || {
        Arc::strong_count(&rt) == 1
    });
    drop(connection);
    drop(rt);
    let (total, releases) = script_outcome(manager);
    for n in 0..THREADS {
        assert_eq!(
            releases.get(&Owner(10 + n)).copied().unwrap_or(0),
            ROUNDS,
            "grants given back for thread {n} (total {total})"
        );
    }
}

/// A give-back larger than the socket takes at once (the `ReturnMany` of
/// a bulk grant that crossed the cancel in the settle wait) is written
/// whole though the client makes no further call: the call returns with
/// its rest queued, and the settler writes it. (Its rest stayed queued
/// until the client's next call, and the manager, holding half a frame,
/// closed the connection at its frame timeout: the items were lost.)
#[test]
fn a_give_back_larger_than_the_socket_takes_is_written_whole_while_the_client_is_idle() {
    use manager_core::Encoded;
    use manager_core::request::QueueRequest;
    use manager_core::value::TypeTag;

    const ITEMS: usize = 128;
    const ITEM_BYTES: usize = 64 * 1024;
    let values: Vec<Encoded> = (0..ITEMS)
        .map(|n| Encoded::encode(&vec![n as u8; ITEM_BYTES]).expect("bytes encode"))
        .collect();
    let granted = values.clone();
    let (returned_tx, returned_rx) = tokio::sync::oneshot::channel::<()>();
    let (address, key, manager) = scripted_manager(move |mut stream, mut buf| async move {
        let get: RequestFrame = buf.read_one(&mut stream).await.map_err(|e| e.to_string())?;
        let _cancel: RequestFrame = buf.read_one(&mut stream).await.map_err(|e| e.to_string())?;
        // The grant crosses the cancel: the call reads it in its settle
        // wait and gives it back, a frame of some 8 MiB.
        answer(&mut stream, get.id, Reply::Values(granted)).await?;
        // Nothing is read until the call has returned, so the socket
        // takes only part of the give-back before it does.
        returned_rx.await.map_err(|e| e.to_string())?;
        let back: RequestFrame = buf.read_one(&mut stream).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(back.request)
    });
    let (rt, connection) = blocking_connection(&address, &key);
    let get = Request::Object {
        target: TARGET,
        op: ObjectRequest::Queue(QueueRequest::GetMany {
            max: ITEMS as u64,
            expect: TypeTag::of::<Vec<u8>>(),
            wait: Wait::Forever,
        }),
    };
    // A deadline of 500 ms: a settle wait long enough to read the grant.
    let call = connection.call_within(get.clone(), Some(Duration::from_millis(500)), Some(get));
    let result = rt
        .block_on(async { tokio::time::timeout(STEP, call).await })
        .expect("the call returned");
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "the call gave up: {result:?}"
    );
    returned_tx.send(()).expect("the script waits");
    let back = script_outcome(manager);
    assert_eq!(
        back,
        Request::Object {
            target: TARGET,
            op: ObjectRequest::Queue(QueueRequest::ReturnMany { values }),
        },
        "the give-back came whole"
    );
    wait_until("the settler ends", || !connection.settler_runs());
    drop(connection);
    drop(rt);
}

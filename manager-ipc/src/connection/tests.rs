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

/// A blocking client's connection reads replies only while a call runs.
/// A lock granted just as the call's deadline passed (the grant crosses
/// the call's cancel) is given back before the call returns, not at the
/// client's next call, which may never come.
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
fn blocking_connection(address: &Address, key: &AuthKey) -> (tokio::runtime::Runtime, Connection) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let connection = rt
        .block_on(async { tokio::time::timeout(STEP, Connection::connect(address, key)).await })
        .expect("connected in time")
        .expect("connect");
    connection.settle_give_ups();
    (rt, connection)
}

/// Runs an acquire of [`TARGET`] with a 50 ms deadline, which takes the
/// lock if granted; its result.
fn acquire_within_50ms(
    rt: &tokio::runtime::Runtime,
    connection: &Connection,
) -> Result<Reply, Error> {
    let acquire = Request::Object {
        target: TARGET,
        op: ObjectRequest::Lock(LockRequest::Acquire {
            owner: OWNER,
            wait: Wait::Forever,
        }),
    };
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
    let next = manager
        .join()
        .expect("the script ran")
        .expect("the script")
        .expect("its steps");
    assert_eq!(
        next,
        Request::Object {
            target: TARGET,
            op: ObjectRequest::Lock(LockRequest::Release { owner: OWNER }),
        },
        "the late grant was given back"
    );
}

/// A manager that never answers the cancel holds the call up no longer
/// than its deadline again, and the cancel is sent once.
#[test]
fn a_cancel_never_answered_holds_the_call_up_for_a_bounded_time() {
    let (address, key, manager) = scripted_manager(|mut stream, mut buf| async move {
        read_acquire_and_cancel(&mut stream, &mut buf).await?;
        // Nothing is answered; the next thing to come is the client's end.
        match buf.read_one::<RequestFrame, _>(&mut stream).await {
            Ok(frame) => Err(format!("expected the end, got {:?}", frame.request)),
            Err(_) => Ok::<_, String>(()),
        }
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
    drop(connection);
    drop(rt);
    manager
        .join()
        .expect("the script ran")
        .expect("the script")
        .expect("its steps");
}

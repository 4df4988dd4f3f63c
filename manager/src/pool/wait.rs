//! How the pool's blocking calls wait: they run the very future the async
//! calls return, on the calling thread ([`wait_here`]); and how its async
//! calls run the pool's few blocking steps, on a thread of their own
//! ([`off_runtime`]).
//!
//! So each wait is written once, as a future (or a `poll` function), and
//! the blocking twin only decides where it runs, as a blocking proxy does
//! ([`crate::mode`]). The pool's handles need no runtime of their own for
//! this: what they wait on (a channel fed by the pool's collector thread)
//! wakes any waker, and here the waker unparks the waiting thread.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::PoolError;
use crate::mode::inside_async_context;

/// Wakes a thread parked in [`wait_here`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to its end on the calling thread, or until `timeout` has
/// passed (then `Ok(None)`; dropping the future is cancel safe for every
/// future the pool waits on this way).
///
/// # Errors
///
/// [`PoolError::InsideRuntime`] if the calling thread is in an async context
/// of a tokio runtime, whose thread the wait would stall: `call` is the
/// blocking call, `instead` its async twin. Checked first, so the answer
/// does not depend on whether the result happens to be there already.
pub(super) fn wait_here<F: Future>(
    future: F,
    timeout: Option<Duration>,
    call: &'static str,
    instead: &'static str,
) -> Result<Option<F::Output>, PoolError> {
    refuse_inside_runtime(call, instead)?;
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Ok(Some(output));
        }
        match deadline {
            None => std::thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(None);
                }
                // A wake-up before the deadline (or a spurious one) polls
                // again; the deadline is checked after that poll.
                std::thread::park_timeout(deadline - now);
            }
        }
    }
}

/// Fails with [`PoolError::InsideRuntime`] if the calling thread is in an
/// async context of a tokio runtime, where the blocking `call` would stall
/// the runtime's thread; `instead` names its async twin.
pub(super) fn refuse_inside_runtime(
    call: &'static str,
    instead: &'static str,
) -> Result<(), PoolError> {
    if inside_async_context() {
        Err(PoolError::InsideRuntime { call, instead })
    } else {
        Ok(())
    }
}

/// Runs `work` on a new thread, outside any runtime, and waits for it
/// without blocking the caller's thread. If the returned future is dropped
/// first, `work` still runs to its end and its output is dropped on that
/// thread.
pub(super) async fn off_runtime<T, F>(name: &str, work: F) -> Result<T, PoolError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done, outcome) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = done.send(work());
        })
        .map_err(|e| PoolError::Manager(format!("start the thread `{name}`: {e}")))?;
    outcome
        .await
        .map_err(|_| PoolError::Manager(format!("the thread `{name}` panicked")))
}

//! The handles of work under way: [`AsyncResult`] (a [`Future`]), [`Imap`]
//! and [`ImapUnordered`] (iterators), and their [`Stream`]s
//! ([`ImapStream`], [`ImapUnorderedStream`]).
//!
//! Each handle's wait is written once, as a `poll` function over the
//! channel the pool's collector thread feeds. The async side polls it
//! directly; the blocking side (`get`, `Iterator::next`) runs the same poll
//! on the calling thread (see `wait.rs`). So the two cannot differ in what
//! they deliver.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use manager_core::Encoded;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::mpsc::error::TryRecvError;

use super::PoolError;
use super::supervisor::{Item, decode};
use super::wait::wait_here;

#[cfg(doc)]
use super::Pool;

/// Turns a call's items, in input order, into what its handle gives.
type Finish<T> = fn(&str, Vec<Result<Encoded, PoolError>>) -> Result<T, PoolError>;

/// The result of [`Pool::apply_async`] (an `R`) or [`Pool::map_async`] (a
/// `Vec<R>`): wait for it with [`AsyncResult::get`] on a plain thread, or
/// `.await` it in async code; both give the same outcome.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(pool: &manager::pool::Pool) -> Result<(), manager::PoolError> {
/// let square = pool.apply_async::<u64, u64>("square", &7)?;
/// let squares = pool.map_async::<u64, u64>("square", 0..10)?;
/// assert_eq!(square.await?, 49);
/// assert_eq!(squares.await?[3], 9);
/// # Ok(())
/// # }
/// ```
///
/// # Cancel safety
///
/// Cancel safe: awaiting `&mut result` in a `select!` branch that loses
/// keeps every item that had arrived in the handle, and the task goes on
/// running; await the handle again (or `get` it) for the result. Dropping
/// the handle does not stop the task; its result is discarded.
///
/// Once the result has been given (by `.await`, `get` or `get_timeout`),
/// the handle is spent: waiting on it again gives [`PoolError::Closed`].
#[derive(Debug)]
#[must_use = "the task runs regardless; the handle is how its result is read"]
pub struct AsyncResult<T> {
    task: String,
    finish: Finish<T>,
    /// Behind a lock only so that [`AsyncResult::get_timeout`] and
    /// [`AsyncResult::ready`] take `&self`; one waiter at a time is the
    /// expected use, so it is never held while waiting.
    gathered: Mutex<Gathered>,
}

/// What an [`AsyncResult`] has received so far.
#[derive(Debug)]
struct Gathered {
    replies: UnboundedReceiver<Item>,
    /// The items that arrived, by index.
    items: Vec<Option<Result<Encoded, PoolError>>>,
    /// How many have not arrived yet.
    missing: usize,
    /// The result has been given.
    spent: bool,
}

impl Gathered {
    fn keep(&mut self, (index, result): Item) {
        if let Some(slot @ None) = self.items.get_mut(index) {
            *slot = Some(result);
            self.missing -= 1;
        }
    }

    /// Every item, in input order, once all have arrived (or cannot).
    fn poll_items(&mut self, cx: &mut Context<'_>) -> Poll<Vec<Result<Encoded, PoolError>>> {
        while self.missing > 0 {
            match ready!(self.replies.poll_recv(cx)) {
                Some(item) => self.keep(item),
                // Every sender gone with items missing: they cannot come.
                None => break,
            }
        }
        self.spent = true;
        Poll::Ready(
            std::mem::take(&mut self.items)
                .into_iter()
                .map(|item| item.unwrap_or(Err(PoolError::Closed)))
                .collect(),
        )
    }
}

impl<T> AsyncResult<T> {
    /// A handle on `len` items of `task`, arriving on `replies`.
    pub(super) fn new(
        task: &str,
        replies: UnboundedReceiver<Item>,
        len: usize,
        finish: Finish<T>,
    ) -> Self {
        AsyncResult {
            task: task.to_owned(),
            finish,
            gathered: Mutex::new(Gathered {
                replies,
                items: (0..len).map(|_| None).collect(),
                missing: len,
                spent: false,
            }),
        }
    }

    fn gathered(&self) -> MutexGuard<'_, Gathered> {
        self.gathered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The one wait, for both kinds of caller.
    fn poll_result(&self, cx: &mut Context<'_>) -> Poll<Result<T, PoolError>> {
        let mut gathered = self.gathered();
        if gathered.spent {
            return Poll::Ready(Err(PoolError::Closed));
        }
        let items = ready!(gathered.poll_items(cx));
        drop(gathered);
        Poll::Ready((self.finish)(&self.task, items))
    }

    /// The blocking wait: [`AsyncResult::poll_result`] on this thread.
    pub(super) fn wait(
        &self,
        timeout: Option<Duration>,
        call: &'static str,
        instead: &'static str,
    ) -> Result<T, PoolError> {
        let waited = wait_here(
            std::future::poll_fn(|cx| self.poll_result(cx)),
            timeout,
            call,
            instead,
        )?;
        match (waited, timeout) {
            (Some(result), _) => result,
            (None, Some(timeout)) => Err(PoolError::Timeout(timeout)),
            (None, None) => Err(PoolError::Closed),
        }
    }

    /// Waits for the result, blocking the calling thread; async code
    /// awaits the handle instead.
    ///
    /// # Errors
    ///
    /// [`PoolError::Task`] if the task failed or panicked,
    /// [`PoolError::WorkerDied`] if its worker died,
    /// [`PoolError::Terminated`] or [`PoolError::CloseTimeout`] if the pool
    /// was stopped first; for [`Pool::map_async`], the error of the first
    /// failed item in input order. [`PoolError::InsideRuntime`] (and the
    /// handle is dropped) if called inside an async context.
    pub fn get(self) -> Result<T, PoolError> {
        self.wait(None, "AsyncResult::get", "the AsyncResult")
    }

    /// Waits at most `timeout` for the result, blocking the calling thread.
    ///
    /// # Errors
    ///
    /// [`PoolError::Timeout`] if it has not come by then (the handle can
    /// wait again, and keeps what had arrived), otherwise as
    /// [`AsyncResult::get`]; [`PoolError::InsideRuntime`] (and the handle
    /// is kept) if called inside an async context.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, PoolError> {
        self.wait(
            Some(timeout),
            "AsyncResult::get_timeout",
            "tokio::time::timeout(.., the AsyncResult)",
        )
    }

    /// Whether the result can be read without waiting (every item has
    /// finished, or can no longer finish). Python's `ready()`.
    pub fn ready(&self) -> bool {
        let mut gathered = self.gathered();
        while gathered.missing > 0 {
            match gathered.replies.try_recv() {
                Ok(item) => gathered.keep(item),
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => return true,
            }
        }
        true
    }
}

impl<T> Future for AsyncResult<T> {
    type Output = Result<T, PoolError>;

    /// As [`AsyncResult::get`], without blocking the thread.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_result(cx)
    }
}

/// [`Finish`] of [`Pool::apply_async`]: the one item's result.
pub(super) fn finish_one<R: DeserializeOwned>(
    task: &str,
    items: Vec<Result<Encoded, PoolError>>,
) -> Result<R, PoolError> {
    let item = items.into_iter().next().unwrap_or(Err(PoolError::Closed));
    decode(task, 0, item)
}

/// [`Finish`] of [`Pool::map_async`]: every item's result in input order,
/// or the first error in that order.
pub(super) fn finish_all<R: DeserializeOwned>(
    task: &str,
    items: Vec<Result<Encoded, PoolError>>,
) -> Result<Vec<R>, PoolError> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| decode(task, index, item))
        .collect()
}

/// The iterator of [`Pool::imap`]: results in input order, blocking the
/// calling thread for each; async code turns it into a [`Stream`] with
/// [`Imap::into_stream`].
#[derive(Debug)]
#[must_use = "iterators are lazy; the tasks run regardless"]
pub struct Imap<R> {
    task: String,
    replies: UnboundedReceiver<Item>,
    total: usize,
    next: usize,
    early: BTreeMap<usize, Result<Encoded, PoolError>>,
    _result: std::marker::PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Imap<R> {
    pub(super) fn new(task: &str, replies: UnboundedReceiver<Item>, total: usize) -> Self {
        Imap {
            task: task.to_owned(),
            replies,
            total,
            next: 0,
            early: BTreeMap::new(),
            _result: std::marker::PhantomData,
        }
    }

    /// The stream of the same results, in the same order, for async code.
    pub fn into_stream(self) -> ImapStream<R> {
        ImapStream(self)
    }

    /// The one wait, for both kinds of caller: the next result in input
    /// order. Results that come early wait in the handle.
    fn poll_next_result(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<R, PoolError>>> {
        if self.next >= self.total {
            return Poll::Ready(None);
        }
        let index = self.next;
        loop {
            if let Some(result) = self.early.remove(&index) {
                self.next += 1;
                return Poll::Ready(Some(decode(&self.task, index, result)));
            }
            match ready!(self.replies.poll_recv(cx)) {
                Some((i, result)) => {
                    self.early.insert(i, result);
                }
                None => {
                    self.next += 1;
                    return Poll::Ready(Some(Err(PoolError::Closed)));
                }
            }
        }
    }

    fn remaining(&self) -> usize {
        self.total.saturating_sub(self.next)
    }
}

impl<R: DeserializeOwned> Iterator for Imap<R> {
    type Item = Result<R, PoolError>;

    /// Blocks the calling thread until the next result in input order.
    /// Inside an async context it yields [`PoolError::InsideRuntime`] once
    /// and ends; use [`Imap::into_stream`] there.
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining() == 0 {
            return None;
        }
        let waited = wait_here(
            std::future::poll_fn(|cx| self.poll_next_result(cx)),
            None,
            "Imap::next",
            "the stream of Imap::into_stream",
        );
        match waited {
            Ok(next) => next.flatten(),
            Err(refused) => {
                self.next = self.total;
                Some(Err(refused))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining(), Some(self.remaining()))
    }
}

/// The [`Stream`] of [`Pool::imap`]'s results, in input order; see
/// [`Imap::into_stream`].
///
/// # Cancel safety
///
/// Cancel safe: a `next()` dropped before it yields (a lost `select!`
/// branch) loses nothing; the result comes with the next one.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled; the tasks run regardless"]
pub struct ImapStream<R>(Imap<R>);

impl<R: DeserializeOwned> Stream for ImapStream<R> {
    type Item = Result<R, PoolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_next_result(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.0.remaining(), Some(self.0.remaining()))
    }
}

/// The iterator of [`Pool::imap_unordered`]: results as they finish,
/// blocking the calling thread for each; async code turns it into a
/// [`Stream`] with [`ImapUnordered::into_stream`].
#[derive(Debug)]
#[must_use = "iterators are lazy; the tasks run regardless"]
pub struct ImapUnordered<R> {
    task: String,
    replies: UnboundedReceiver<Item>,
    remaining: usize,
    _result: std::marker::PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> ImapUnordered<R> {
    pub(super) fn new(task: &str, replies: UnboundedReceiver<Item>, total: usize) -> Self {
        ImapUnordered {
            task: task.to_owned(),
            replies,
            remaining: total,
            _result: std::marker::PhantomData,
        }
    }

    /// The stream of the same results, as they finish, for async code.
    pub fn into_stream(self) -> ImapUnorderedStream<R> {
        ImapUnorderedStream(self)
    }

    /// The one wait, for both kinds of caller: the next result to finish.
    fn poll_next_result(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<R, PoolError>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let next = ready!(self.replies.poll_recv(cx));
        self.remaining -= 1;
        Poll::Ready(Some(match next {
            Some((index, result)) => decode(&self.task, index, result),
            None => Err(PoolError::Closed),
        }))
    }
}

impl<R: DeserializeOwned> Iterator for ImapUnordered<R> {
    type Item = Result<R, PoolError>;

    /// Blocks the calling thread until the next result finishes. Inside an
    /// async context it yields [`PoolError::InsideRuntime`] once and ends;
    /// use [`ImapUnordered::into_stream`] there.
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let waited = wait_here(
            std::future::poll_fn(|cx| self.poll_next_result(cx)),
            None,
            "ImapUnordered::next",
            "the stream of ImapUnordered::into_stream",
        );
        match waited {
            Ok(next) => next.flatten(),
            Err(refused) => {
                self.remaining = 0;
                Some(Err(refused))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

/// The [`Stream`] of [`Pool::imap_unordered`]'s results, as they finish;
/// see [`ImapUnordered::into_stream`].
///
/// # Cancel safety
///
/// Cancel safe, as [`ImapStream`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled; the tasks run regardless"]
pub struct ImapUnorderedStream<R>(ImapUnordered<R>);

impl<R: DeserializeOwned> Stream for ImapUnorderedStream<R> {
    type Item = Result<R, PoolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_next_result(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.0.remaining, Some(self.0.remaining))
    }
}

//! The handles of work under way: [`AsyncResult`], [`Imap`] and
//! [`ImapUnordered`].

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use manager_core::Encoded;
use serde::de::DeserializeOwned;

use super::PoolError;
use super::supervisor::{Item, decode};

#[cfg(doc)]
use super::Pool;

/// The result of [`Pool::apply_async`], to wait for.
#[derive(Debug)]
pub struct AsyncResult<R> {
    pub(super) task: String,
    pub(super) replies: mpsc::Receiver<Item>,
    pub(super) _result: std::marker::PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> AsyncResult<R> {
    /// Waits for the result.
    ///
    /// # Errors
    ///
    /// [`PoolError::Task`] if the task failed or panicked,
    /// [`PoolError::WorkerDied`] if its worker died,
    /// [`PoolError::Terminated`] or [`PoolError::CloseTimeout`] if the pool
    /// was stopped first.
    pub fn get(self) -> Result<R, PoolError> {
        let (index, result) = self.replies.recv().map_err(|_| PoolError::Closed)?;
        decode(&self.task, index, result)
    }

    /// Waits at most `timeout` for the result.
    ///
    /// # Errors
    ///
    /// [`PoolError::Timeout`] if it has not come by then (the handle can
    /// wait again), otherwise as [`AsyncResult::get`].
    pub fn get_timeout(&self, timeout: Duration) -> Result<R, PoolError> {
        match self.replies.recv_timeout(timeout) {
            Ok((index, result)) => decode(&self.task, index, result),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(PoolError::Timeout(timeout)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(PoolError::Closed),
        }
    }
}

/// The iterator of [`Pool::imap`]: results in input order.
#[derive(Debug)]
pub struct Imap<R> {
    pub(super) task: String,
    pub(super) replies: mpsc::Receiver<Item>,
    pub(super) total: usize,
    pub(super) next: usize,
    pub(super) early: BTreeMap<usize, Result<Encoded, PoolError>>,
    pub(super) _result: std::marker::PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Iterator for Imap<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        let index = self.next;
        self.next += 1;
        loop {
            if let Some(result) = self.early.remove(&index) {
                return Some(decode(&self.task, index, result));
            }
            match self.replies.recv() {
                Ok((i, result)) => {
                    self.early.insert(i, result);
                }
                Err(_) => return Some(Err(PoolError::Closed)),
            }
        }
    }
}

/// The iterator of [`Pool::imap_unordered`]: results as they finish.
#[derive(Debug)]
pub struct ImapUnordered<R> {
    pub(super) task: String,
    pub(super) replies: mpsc::Receiver<Item>,
    pub(super) remaining: usize,
    pub(super) _result: std::marker::PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Iterator for ImapUnordered<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(match self.replies.recv() {
            Ok((index, result)) => decode(&self.task, index, result),
            Err(_) => Err(PoolError::Closed),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

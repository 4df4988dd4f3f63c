//! [`Queue`], [`JoinableQueue`]: the blocking proxies of a shared FIFO
//! queue; see [`proxy::Queue`] and [`proxy::JoinableQueue`] for what each
//! method does, and how waiting, timeouts and dead workers work.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Runner;
use crate::Error;
use crate::proxy;

/// The blocking handle of [`proxy::Queue`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use manager_ipc::{Error, ManagerError};
///
/// let manager = manager_ipc::Manager::start()?;
/// let jobs = manager.connect()?.queue::<u32>("jobs", Some(1))?;
/// jobs.put(&7)?;
/// let full = jobs.put_timeout(&8, Duration::from_millis(10)).unwrap_err();
/// assert!(matches!(full, Error::Manager(ManagerError::Full { .. })));
/// assert_eq!(jobs.get()?, 7);
/// let empty = jobs.get_nowait().unwrap_err();
/// assert!(matches!(empty, Error::Manager(ManagerError::Empty { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Queue<T> {
    inner: proxy::Queue<T>,
    runtime: Runner,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("inner", &self.inner).finish()
    }
}

impl<T> Queue<T> {
    pub(crate) fn new(inner: proxy::Queue<T>, runtime: Runner) -> Self {
        Queue { inner, runtime }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.inner.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.inner.id()
    }

    /// The async handle underneath.
    pub fn as_async(&self) -> &proxy::Queue<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::Queue::len`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn len(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.len())
    }

    /// See [`proxy::Queue::qsize`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn qsize(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.qsize())
    }

    /// See [`proxy::Queue::is_empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_empty())
    }

    /// See [`proxy::Queue::empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.empty())
    }

    /// See [`proxy::Queue::is_full`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_full(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_full())
    }

    /// See [`proxy::Queue::full`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn full(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.full())
    }
}

impl<T: Serialize> Queue<T> {
    /// See [`proxy::Queue::put`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn put(&self, item: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.put(item))
    }

    /// See [`proxy::Queue::put_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn put_timeout(&self, item: &T, timeout: Duration) -> Result<(), Error> {
        self.runtime.run(self.inner.put_timeout(item, timeout))
    }

    /// See [`proxy::Queue::put_nowait`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn put_nowait(&self, item: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.put_nowait(item))
    }
}

impl<T: DeserializeOwned> Queue<T> {
    /// See [`proxy::Queue::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get(&self) -> Result<T, Error> {
        self.runtime.run(self.inner.get())
    }

    /// See [`proxy::Queue::get_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, Error> {
        self.runtime.run(self.inner.get_timeout(timeout))
    }

    /// See [`proxy::Queue::get_nowait`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get_nowait(&self) -> Result<T, Error> {
        self.runtime.run(self.inner.get_nowait())
    }

    /// See [`proxy::Queue::try_get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn try_get(&self) -> Result<Option<T>, Error> {
        self.runtime.run(self.inner.try_get())
    }
}

/// The blocking handle of [`proxy::JoinableQueue`].
///
/// # Examples
///
/// ```
/// let manager = manager_ipc::Manager::start()?;
/// let client = manager.connect()?;
/// let tasks = client.joinable_queue::<String>("tasks", None)?;
/// tasks.put(&"index the docs".to_owned())?;
/// let worker = std::thread::spawn({
///     let tasks = tasks.clone();
///     move || -> Result<(), manager_ipc::Error> {
///         let task = tasks.get()?;
///         println!("doing {task}");
///         tasks.task_done()
///     }
/// });
/// // Returns once the worker has marked the task done.
/// assert!(tasks.join()?);
/// worker.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JoinableQueue<T> {
    inner: proxy::JoinableQueue<T>,
    runtime: Runner,
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> Self {
        JoinableQueue {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinableQueue")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T> JoinableQueue<T> {
    pub(crate) fn new(inner: proxy::JoinableQueue<T>, runtime: Runner) -> Self {
        JoinableQueue { inner, runtime }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.inner.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.inner.id()
    }

    /// The async handle underneath.
    pub fn as_async(&self) -> &proxy::JoinableQueue<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::JoinableQueue::len`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn len(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.len())
    }

    /// See [`proxy::JoinableQueue::qsize`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn qsize(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.qsize())
    }

    /// See [`proxy::JoinableQueue::is_empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_empty())
    }

    /// See [`proxy::JoinableQueue::empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.empty())
    }

    /// See [`proxy::JoinableQueue::is_full`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_full(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_full())
    }

    /// See [`proxy::JoinableQueue::full`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn full(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.full())
    }

    /// See [`proxy::JoinableQueue::task_done`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn task_done(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.task_done())
    }

    /// See [`proxy::JoinableQueue::join`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn join(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.join())
    }

    /// See [`proxy::JoinableQueue::join_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        self.runtime.run(self.inner.join_timeout(timeout))
    }
}

impl<T: Serialize> JoinableQueue<T> {
    /// See [`proxy::JoinableQueue::put`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn put(&self, item: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.put(item))
    }

    /// See [`proxy::JoinableQueue::put_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn put_timeout(&self, item: &T, timeout: Duration) -> Result<(), Error> {
        self.runtime.run(self.inner.put_timeout(item, timeout))
    }

    /// See [`proxy::JoinableQueue::put_nowait`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn put_nowait(&self, item: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.put_nowait(item))
    }
}

impl<T: DeserializeOwned> JoinableQueue<T> {
    /// See [`proxy::JoinableQueue::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get(&self) -> Result<T, Error> {
        self.runtime.run(self.inner.get())
    }

    /// See [`proxy::JoinableQueue::get_timeout`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, Error> {
        self.runtime.run(self.inner.get_timeout(timeout))
    }

    /// See [`proxy::JoinableQueue::get_nowait`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get_nowait(&self) -> Result<T, Error> {
        self.runtime.run(self.inner.get_nowait())
    }

    /// See [`proxy::JoinableQueue::try_get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn try_get(&self) -> Result<Option<T>, Error> {
        self.runtime.run(self.inner.try_get())
    }
}

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

/// Defines a blocking queue handle type over the async one of the same name
/// in [`proxy`]: the struct, with `$type_doc` as its docs, and every method
/// of a plain queue, written once for [`Queue`] and [`JoinableQueue`] (which
/// adds `task_done` and `join` below).
macro_rules! blocking_queue {
    ($(#[$type_doc:meta])* pub struct $Queue:ident<T>;) => {
        $(#[$type_doc])*
        pub struct $Queue<T> {
            inner: proxy::$Queue<T>,
            runtime: Runner,
        }

        impl<T> Clone for $Queue<T> {
            fn clone(&self) -> Self {
                Self::new(self.inner.clone(), self.runtime.clone())
            }
        }

        impl<T> std::fmt::Debug for $Queue<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Queue))
                    .field("inner", &self.inner)
                    .finish()
            }
        }

        impl<T> $Queue<T> {
            pub(crate) fn new(inner: proxy::$Queue<T>, runtime: Runner) -> Self {
                $Queue { inner, runtime }
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
            pub fn as_async(&self) -> &proxy::$Queue<T> {
                &self.inner
            }

            /// A handle on the same object whose calls time out after `timeout`.
            pub fn with_timeout(&self, timeout: Duration) -> Self {
                Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::len`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn len(&self) -> Result<usize, Error> {
                self.runtime.run(self.inner.len())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::qsize`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn qsize(&self) -> Result<usize, Error> {
                self.runtime.run(self.inner.qsize())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::is_empty`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn is_empty(&self) -> Result<bool, Error> {
                self.runtime.run(self.inner.is_empty())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::empty`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn empty(&self) -> Result<bool, Error> {
                self.runtime.run(self.inner.empty())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::is_full`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn is_full(&self) -> Result<bool, Error> {
                self.runtime.run(self.inner.is_full())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::full`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn full(&self) -> Result<bool, Error> {
                self.runtime.run(self.inner.full())
            }
        }

        impl<T: Serialize> $Queue<T> {
            #[doc = concat!("See [`proxy::", stringify!($Queue), "::put`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn put(&self, item: &T) -> Result<(), Error> {
                self.runtime.run(self.inner.put(item))
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::put_timeout`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn put_timeout(&self, item: &T, timeout: Duration) -> Result<(), Error> {
                self.runtime.run(self.inner.put_timeout(item, timeout))
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::put_nowait`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn put_nowait(&self, item: &T) -> Result<(), Error> {
                self.runtime.run(self.inner.put_nowait(item))
            }
        }

        impl<T: DeserializeOwned> $Queue<T> {
            #[doc = concat!("See [`proxy::", stringify!($Queue), "::get`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn get(&self) -> Result<T, Error> {
                self.runtime.run(self.inner.get())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::get_timeout`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, Error> {
                self.runtime.run(self.inner.get_timeout(timeout))
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::receive`]: an acknowledged get.")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn receive(&self) -> Result<Delivery<T>, Error> {
                let inner = self.runtime.run(self.inner.receive())?;
                Ok(Delivery::new(inner, self.runtime.clone()))
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::receive_timeout`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn receive_timeout(&self, timeout: Duration) -> Result<Delivery<T>, Error> {
                let inner = self.runtime.run(self.inner.receive_timeout(timeout))?;
                Ok(Delivery::new(inner, self.runtime.clone()))
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::get_nowait`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn get_nowait(&self) -> Result<T, Error> {
                self.runtime.run(self.inner.get_nowait())
            }

            #[doc = concat!("See [`proxy::", stringify!($Queue), "::try_get`].")]
            ///
            /// # Errors
            ///
            /// As there.
            pub fn try_get(&self) -> Result<Option<T>, Error> {
                self.runtime.run(self.inner.try_get())
            }
        }
    };
}

blocking_queue! {
    /// The blocking handle of [`proxy::Queue`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use manager::{Error, ManagerError};
    ///
    /// let manager = manager::Manager::start()?;
    /// let jobs = manager.connect()?.queue::<u32>("jobs", Some(1))?;
    /// jobs.put(&7)?;
    /// let full = jobs.put_timeout(&8, Duration::from_millis(10)).unwrap_err();
    /// assert!(matches!(full, Error::Manager(ManagerError::Full { .. })));
    /// assert_eq!(jobs.get()?, 7);
    /// let empty = jobs.get_nowait().unwrap_err();
    /// assert!(matches!(empty, Error::Manager(ManagerError::Empty { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct Queue<T>;
}

blocking_queue! {
    /// The blocking handle of [`proxy::JoinableQueue`].
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = manager::Manager::start()?;
    /// let client = manager.connect()?;
    /// let tasks = client.joinable_queue::<String>("tasks", None)?;
    /// tasks.put(&"index the docs".to_owned())?;
    /// let worker = std::thread::spawn({
    ///     let tasks = tasks.clone();
    ///     move || -> Result<(), manager::Error> {
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
    pub struct JoinableQueue<T>;
}

impl<T> JoinableQueue<T> {
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

/// An item taken with a receipt, to acknowledge; see [`proxy::Delivery`].
///
/// Dropping it unacknowledged gives the item back before `drop` returns.
#[derive(Debug)]
#[must_use = "an item not acknowledged goes back to the queue when dropped"]
pub struct Delivery<T> {
    inner: Option<proxy::Delivery<T>>,
    runtime: Runner,
}

impl<T> Delivery<T> {
    fn new(inner: proxy::Delivery<T>, runtime: Runner) -> Self {
        Delivery {
            inner: Some(inner),
            runtime,
        }
    }

    fn take(&mut self) -> proxy::Delivery<T> {
        self.inner.take().expect("held until settled")
    }

    /// The item.
    pub fn item(&self) -> &T {
        self.inner.as_ref().expect("held until settled").item()
    }

    /// The receipt the manager gave this item.
    pub fn receipt(&self) -> u64 {
        self.inner.as_ref().expect("held until settled").receipt()
    }

    /// See [`proxy::Delivery::ack`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn ack(mut self) -> Result<T, Error> {
        let inner = self.take();
        self.runtime.run(inner.ack())
    }

    /// See [`proxy::Delivery::task_done`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn task_done(mut self) -> Result<(), Error> {
        let inner = self.take();
        self.runtime.run(inner.task_done())
    }

    /// See [`proxy::Delivery::requeue`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn requeue(mut self) -> Result<(), Error> {
        let inner = self.take();
        self.runtime.run(inner.requeue())
    }
}

impl<T> std::ops::Deref for Delivery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.item()
    }
}

impl<T> Drop for Delivery<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take()
            && let Err(error) = self.runtime.run(inner.requeue())
        {
            tracing::debug!(%error, "requeue from a dropped delivery failed");
        }
    }
}

//! [`Tasks`]: the functions a pool's workers can run, registered by name,
//! and the built-in worker entry that serves them.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use manager_core::Encoded;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::WORKER_ENTRY;
use super::worker::{WorkerArgs, serve};
use crate::launcher::{Entries, panic_message};
use crate::worker_report;

#[cfg(doc)]
use super::PoolError;

pub(super) type TaskFn = Box<dyn Fn(&Encoded) -> Result<Encoded, Failure> + Send + Sync>;

/// Why a task gave no result, as a worker tells the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Failure {
    /// The task failed, panicked or does not exist; the message says which.
    Failed(String),
    /// The input is of another type than the task takes.
    WrongArgs { expected: String, given: String },
}

impl Failure {
    pub(super) fn message(&self) -> String {
        match self {
            Failure::Failed(message) => message.clone(),
            Failure::WrongArgs { expected, given } => {
                format!("it takes `{expected}`, but was given `{given}`")
            }
        }
    }
}

/// Task functions a worker can run, by name.
///
/// Register it with [`Entries::tasks`]; the pool runs tasks by these names.
#[must_use = "register it with `Entries::tasks`"]
pub struct Tasks {
    pub(super) tasks: BTreeMap<String, TaskFn>,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.tasks.keys()).finish()
    }
}

impl Default for Tasks {
    fn default() -> Self {
        Self::new()
    }
}

impl Tasks {
    /// No tasks yet.
    pub fn new() -> Self {
        Tasks {
            tasks: BTreeMap::new(),
        }
    }

    /// Registers `function` under `name`. An error it returns, or a panic,
    /// reaches the caller as [`PoolError::Task`] with its message. An input
    /// that is not an `A` fails with [`PoolError::WrongArgs`] before the
    /// task runs. An initializer is a task too (its result is ignored).
    ///
    /// `function` is `Send + Sync`, as an entry's is: a worker whose `main`
    /// is async serves its tasks on a thread of its own (see
    /// [Async programs](crate::launcher#async-programs)).
    pub fn task<A, R, E, F>(mut self, name: &str, function: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        E: std::fmt::Display,
        F: Fn(A) -> Result<R, E> + Send + Sync + 'static,
    {
        let owned = name.to_owned();
        self.tasks.insert(
            name.to_owned(),
            Box::new(move |input: &Encoded| {
                let args: A = input
                    .decode(format_args!("the input of task `{owned}`"))
                    .map_err(|e| match worker_report::mismatch(&e) {
                        Some((expected, given)) => Failure::WrongArgs { expected, given },
                        None => Failure::Failed(e.to_string()),
                    })?;
                let result = function(args).map_err(|e| Failure::Failed(e.to_string()))?;
                Encoded::encode(&result)
                    .map_err(|e| Failure::Failed(format!("cannot encode the result: {e}")))
            }),
        );
        self
    }

    /// Runs task `name` on `args`, catching a panic.
    pub(super) fn call(&self, name: &str, args: &Encoded) -> Result<Encoded, Failure> {
        let Some(function) = self.tasks.get(name) else {
            let known: Vec<_> = self.tasks.keys().map(String::as_str).collect();
            return Err(Failure::Failed(format!(
                "no task named `{name}` (known: {})",
                known.join(", ")
            )));
        };
        match catch_unwind(AssertUnwindSafe(|| function(args))) {
            Ok(result) => result,
            Err(payload) => {
                let message = panic_message(&*payload).unwrap_or_else(|| "(no message)".to_owned());
                Err(Failure::Failed(format!("panicked: {message}")))
            }
        }
    }
}

// Pool additions to `Entries` live here, next to what they serve.
impl Entries {
    /// Registers the built-in pool worker entry ([`WORKER_ENTRY`]) serving
    /// `tasks`. Call it once per program; a second call replaces the first.
    pub fn tasks(self, tasks: Tasks) -> Self {
        self.entry(WORKER_ENTRY, move |args: WorkerArgs| serve(&tasks, &args))
    }
}

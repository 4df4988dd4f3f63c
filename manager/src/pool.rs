//! A worker [`Pool`], like Python's `multiprocessing.Pool`, over worker OS
//! processes started by the [`launcher`](crate::launcher).
//!
//! # Tasks are registered by name
//!
//! A worker is a fresh process (the program re-executed, or another binary),
//! so it cannot be sent a closure. Task functions are registered under names
//! in a [`Tasks`] registry, and the registry is added to the program's
//! [`Entries`] with [`Entries::tasks`], which registers one built-in entry
//! ([`WORKER_ENTRY`]) that serves them. The parent names the task it wants
//! run; arguments and results are serde types.
//!
//! ```no_run
//! use manager::launcher::Entries;
//! use manager::pool::{Pool, Tasks};
//!
//! fn square(x: u64) -> Result<u64, String> {
//!     Ok(x * x)
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     Entries::new()
//!         .tasks(Tasks::new().task("square", square))
//!         .run_if_worker();
//!
//!     let manager = manager::Manager::start()?;
//!     let pool = Pool::builder(&manager).workers(4).build()?;
//!     let squares: Vec<u64> = pool.map("square", 0..100_u64)?;
//!     assert_eq!(squares[9], 81);
//!     pool.close()?;
//!     Ok(())
//! }
//! ```
//!
//! # Transport
//!
//! The pool uses the manager's own objects: one task queue per worker (so
//! the parent knows which worker holds which tasks) and one results queue,
//! all under a name unique to the pool, removed when the pool closes. A
//! collector thread of the parent reads the results queue with a bounded
//! wait and checks between reads whether each worker is still alive. A
//! worker is given one job (a chunk of items) at a time.
//!
//! # Inputs and results are typed
//!
//! Inputs, the initializer's arguments and results travel as [`Encoded`]
//! values (the codec's bytes and the name of their type). An input of
//! another type than the task takes fails that item with
//! [`PoolError::WrongArgs`] before the task runs; a result read as
//! another type than the task returned fails it with
//! [`PoolError::WrongResult`]; both name the task and the two types. An
//! initializer's arguments of another type fail the pool as a failed
//! initializer does ([`PoolError::Initializer`]).
//!
//! # Errors in tasks
//!
//! A task that returns an error or panics fails that item only, with
//! [`PoolError::Task`] and the error's message; the worker goes on serving.
//!
//! # What happens when a worker dies
//!
//! The job it was running fails, each of its items with
//! [`PoolError::WorkerDied`], unless the pool was built with
//! [`PoolBuilder::retries`]: then it runs again on another worker, up to
//! that many times. A job handed to it but not yet taken goes to another
//! worker. The pool starts a replacement and goes on. The parent keeps
//! every job until its results arrive, so no job is lost with a worker.
//!
//! # Shutdown
//!
//! [`Pool::close`] is Python's `close()` followed by `join()`: the pool takes
//! no new work, finishes every task already submitted (queued ones
//! included; their results still reach the [`AsyncResult`], [`Imap`] and
//! [`ImapUnordered`] handles), then stops the workers. A worker that dies
//! meanwhile is replaced while submitted work remains. The wait is bounded
//! by [`PoolBuilder::close_timeout`] ([`DEFAULT_CLOSE_TIMEOUT`], 5 minutes,
//! unless set): a close never hangs on a task that never ends. When it
//! passes, the workers are killed, every unfinished item fails with
//! [`PoolError::CloseTimeout`] and so does `close`.
//!
//! [`Pool::terminate`], and dropping the pool, stop at once (Python's
//! `terminate()`): the workers are killed and every unfinished item, running
//! or queued, fails with [`PoolError::Terminated`]. Results that had already
//! arrived are still delivered.
//!
//! In every case no worker process is left running (each is killed if need
//! be, and reaped) and the pool's queues are removed from the manager.
//! `close` and `terminate` take the pool by value, so no call can start
//! while they run; a handle whose result can no longer come for any other
//! reason reports [`PoolError::Closed`].

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use manager_core::{Encoded, ManagerError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::launcher::{Entries, Launcher, Worker, panic_message};
use crate::worker_report;
use crate::{Error, LaunchError, Manager, blocking};

/// The name of the built-in entry that serves a pool's tasks.
pub const WORKER_ENTRY: &str = "__pool_worker";

/// How long the collector waits for a result before it checks the workers.
const POLL: Duration = Duration::from_millis(100);
/// The deadline of each call the pool makes to the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Pool::close`] waits, once the work is done, for the idle
/// workers to exit before killing them.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How long [`Pool::close`] waits for the submitted work to finish, unless
/// [`PoolBuilder::close_timeout`] says otherwise: 5 minutes.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(300);

/// What went wrong with a pool or one of its tasks.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The task returned an error or panicked; the worker went on.
    #[error("task `{task}` failed on item {index}: {message}")]
    Task {
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// The error's (or panic's) message.
        message: String,
    },
    /// The worker running the item's job died; a replacement was started.
    #[error("worker {pid} died running task `{task}` on item {index}: {how}")]
    WorkerDied {
        /// The dead worker's process id.
        pid: u32,
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// How it ended.
        how: String,
    },
    /// The initializer failed in a worker; the pool takes no more work.
    #[error("initializer `{task}` failed in worker {pid}: {message}")]
    Initializer {
        /// The initializer's task name.
        task: String,
        /// The worker it failed in.
        pid: u32,
        /// Its error's message.
        message: String,
    },
    /// An input is of another type than the task takes; the task did not
    /// run on it.
    #[error("task `{task}` takes `{expected}`, but item {index} is a `{given}`")]
    WrongArgs {
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// The type the task takes.
        expected: String,
        /// The type of the input.
        given: String,
    },
    /// A result is of another type than the caller asked for.
    #[error(
        "task `{task}` returned a `{given}` for item {index}, but a `{expected}` was asked for"
    )]
    WrongResult {
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// The type asked for.
        expected: String,
        /// The type the task returned.
        given: String,
    },
    /// An argument could not be encoded, or a result decoded.
    #[error("task `{task}`: {message}")]
    Codec {
        /// The task's name.
        task: String,
        /// What failed.
        message: String,
    },
    /// No result within the time asked for; the task may still finish.
    #[error("no result after {0:?}")]
    Timeout(Duration),
    /// No worker is running: replacements for dead workers could not be
    /// started (the pool logs why).
    #[error("no pool worker is running")]
    NoWorkers,
    /// The pool takes no more work (its results queue failed), or a handle's
    /// result can no longer come for a reason no other variant names.
    #[error("the pool is closed")]
    Closed,
    /// [`Pool::terminate`] (or dropping the pool) stopped the workers before
    /// the item finished.
    #[error("the pool was terminated before the task finished")]
    Terminated,
    /// [`Pool::close`] waited this long for the submitted work, then killed
    /// the workers before the item finished. `close` itself returns this
    /// error too.
    #[error("the pool's close gave up after {0:?} and killed its workers before the task finished")]
    CloseTimeout(Duration),
    /// A call to the manager failed.
    #[error("manager: {0}")]
    Manager(String),
    /// A worker could not be started (or this process, a worker whose
    /// `main` did not call
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// first, may not start any: [`LaunchError::NotDispatched`]).
    #[error("start a pool worker: {0}")]
    Launch(LaunchError),
}

impl From<LaunchError> for PoolError {
    fn from(e: LaunchError) -> Self {
        PoolError::Launch(e)
    }
}

impl From<Error> for PoolError {
    fn from(e: Error) -> Self {
        PoolError::Manager(e.to_string())
    }
}

// ---------------------------------------------------------------- tasks

type TaskFn = Box<dyn Fn(&Encoded) -> Result<Encoded, Failure>>;

/// Why a task gave no result, as a worker tells the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Failure {
    /// The task failed, panicked or does not exist; the message says which.
    Failed(String),
    /// The input is of another type than the task takes.
    WrongArgs { expected: String, given: String },
}

impl Failure {
    fn message(&self) -> String {
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
    tasks: BTreeMap<String, TaskFn>,
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
    pub fn task<A, R, E, F>(mut self, name: &str, function: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        E: std::fmt::Display,
        F: Fn(A) -> Result<R, E> + 'static,
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
    fn call(&self, name: &str, args: &Encoded) -> Result<Encoded, Failure> {
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

// ---------------------------------------------------------------- wire

/// What a pool worker is launched with.
#[derive(Debug, Serialize, Deserialize)]
struct WorkerArgs {
    worker: u64,
    tasks: String,
    results: String,
    initializer: Option<(String, Encoded)>,
}

/// A chunk of items of one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    id: u64,
    task: String,
    items: Vec<(usize, Encoded)>,
}

/// The parent to a worker.
#[derive(Debug, Serialize, Deserialize)]
enum Order {
    Run(Job),
    Stop,
}

/// A worker to the parent.
#[derive(Debug, Serialize, Deserialize)]
enum Report {
    Done {
        worker: u64,
        job: u64,
        results: Vec<(usize, Result<Encoded, Failure>)>,
    },
    InitFailed {
        worker: u64,
        message: String,
    },
}

/// The pool worker's loop: run the initializer, then jobs until `Stop`.
fn serve(tasks: &Tasks, args: &WorkerArgs) -> Result<(), Error> {
    let client = blocking::Client::from_env()?;
    let orders = client.queue::<Order>(&args.tasks, None)?;
    let results = client.queue::<Report>(&args.results, None)?;
    if let Some((name, input)) = &args.initializer
        && let Err(failure) = tasks.call(name, input)
    {
        results.put(&Report::InitFailed {
            worker: args.worker,
            message: failure.message(),
        })?;
        return Ok(());
    }
    loop {
        match orders.get()? {
            Order::Stop => return Ok(()),
            Order::Run(job) => {
                let done = job
                    .items
                    .iter()
                    .map(|(index, bytes)| (*index, tasks.call(&job.task, bytes)))
                    .collect();
                results.put(&Report::Done {
                    worker: args.worker,
                    job: job.id,
                    results: done,
                })?;
            }
        }
    }
}

// ---------------------------------------------------------------- pool

/// One item's outcome, still encoded.
type Item = (usize, Result<Encoded, PoolError>);

struct Pending {
    job: Job,
    reply: mpsc::Sender<Item>,
    /// How many workers died running it so far.
    deaths: u32,
}

struct Slot {
    id: u64,
    worker: Worker,
    queue_name: String,
    queue: blocking::Queue<Order>,
    running: Option<Pending>,
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    pending: VecDeque<Pending>,
    next_job: u64,
    next_worker: u64,
    closed: bool,
    broken: Option<(String, u32, String)>,
}

struct Shared {
    client: blocking::Client,
    launcher: Launcher,
    program: Option<OsString>,
    prefix: String,
    results_name: String,
    results: blocking::Queue<Report>,
    initializer: Option<(String, Encoded)>,
    state: Mutex<State>,
    /// Signalled whenever a job ends or is dropped; [`Pool::close`] waits on it.
    changed: Condvar,
    /// How many times a job whose worker died runs again.
    retries: u32,
    stopping: AtomicBool,
}

/// Builds a [`Pool`]; see [`Pool::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PoolBuilder<'a> {
    manager: &'a Manager,
    workers: usize,
    chunksize: Option<usize>,
    initializer: Option<(String, Result<Encoded, String>)>,
    program: Option<OsString>,
    close_timeout: Duration,
    retries: u32,
}

impl PoolBuilder<'_> {
    /// How many worker processes (default: the number of cores; at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Items per job for every call (default: Python's: for `map`, the
    /// inputs split in about four chunks per worker; 1 for the others).
    pub fn chunksize(mut self, n: usize) -> Self {
        self.chunksize = Some(n.max(1));
        self
    }

    /// Runs task `name` with `args` once in each worker before it takes
    /// work. Arguments of another type than the task takes fail it, and
    /// with it the pool ([`PoolError::Initializer`]).
    pub fn initializer<A: Serialize + ?Sized>(mut self, name: &str, args: &A) -> Self {
        let encoded = Encoded::encode(args).map_err(|e| e.to_string());
        self.initializer = Some((name.to_owned(), encoded));
        self
    }

    /// Workers run `program` (a binary whose `main` runs [`Entries`] with
    /// [`Entries::tasks`]) instead of a copy of the running program.
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// How long [`Pool::close`] waits for the submitted work to finish
    /// before it kills the workers (default [`DEFAULT_CLOSE_TIMEOUT`], 5
    /// minutes). There is no "forever": a close always ends.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How many times a job whose worker dies while running it is run again
    /// on another worker (default 0: its items fail with
    /// [`PoolError::WorkerDied`]). A retried job may have run in part, so
    /// retry only tasks that may run more than once (idempotent, or that
    /// record their progress). After `n` deaths the items fail with
    /// `WorkerDied`. A job handed to a worker that died before taking it
    /// always goes to another worker and is not counted.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Creates the pool's queues and starts its workers.
    ///
    /// # Errors
    ///
    /// [`PoolError`] if the manager cannot be reached, the initializer's
    /// arguments cannot be encoded or a worker cannot be started;
    /// [`PoolError::Launch`] with [`LaunchError::NotDispatched`] if this
    /// process is itself a worker whose `main` did not call
    /// [`Entries::run_if_worker`] first.
    pub fn build(self) -> Result<Pool, PoolError> {
        static POOLS: AtomicU64 = AtomicU64::new(0);
        worker_report::refuse_undispatched("PoolBuilder::build").map_err(|reason| {
            LaunchError::NotDispatched {
                entry: WORKER_ENTRY.to_owned(),
                reason,
            }
        })?;
        let initializer = match self.initializer {
            None => None,
            Some((task, Ok(input))) => Some((task, input)),
            Some((task, Err(message))) => return Err(PoolError::Codec { task, message }),
        };
        let client = self.manager.connect()?.with_timeout(CALL_TIMEOUT);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let prefix = format!(
            "__pool/{}/{}/{nanos}",
            std::process::id(),
            POOLS.fetch_add(1, Ordering::Relaxed)
        );
        let results_name = format!("{prefix}/results");
        let results = client.queue::<Report>(&results_name, None)?;
        let shared = Arc::new(Shared {
            client,
            launcher: self.manager.launcher(),
            program: self.program,
            prefix,
            results_name,
            results,
            initializer,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            retries: self.retries,
            stopping: AtomicBool::new(false),
        });
        let mut pool = Pool {
            shared: Arc::clone(&shared),
            chunksize: self.chunksize,
            workers: self.workers,
            close_timeout: self.close_timeout,
            collector: None,
        };
        {
            let mut state = shared.lock();
            for _ in 0..self.workers {
                let slot = shared.start_worker(&mut state)?;
                state.slots.push(slot);
            }
        }
        let collector = std::thread::Builder::new()
            .name("pool-collector".to_owned())
            .spawn(move || shared.collect())
            .map_err(|e| PoolError::Manager(format!("start the collector thread: {e}")))?;
        pool.collector = Some(collector);
        Ok(pool)
    }
}

/// A pool of worker processes that run registered [`Tasks`].
///
/// See the [module documentation](self).
#[derive(Debug)]
pub struct Pool {
    shared: Arc<Shared>,
    chunksize: Option<usize>,
    workers: usize,
    close_timeout: Duration,
    collector: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A builder for a pool whose workers use `manager`.
    pub fn builder(manager: &Manager) -> PoolBuilder<'_> {
        PoolBuilder {
            manager,
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            chunksize: None,
            initializer: None,
            program: None,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            retries: 0,
        }
    }

    /// The process ids of the current workers.
    pub fn pids(&self) -> Vec<u32> {
        self.shared
            .lock()
            .slots
            .iter()
            .map(|s| s.worker.pid())
            .collect()
    }

    /// Runs `task` on every input and returns the results in input order.
    ///
    /// # Errors
    ///
    /// The error of the first failed item in input order, once every item
    /// has finished.
    pub fn map<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let items = encode_all(task, inputs)?;
        let n = items.len();
        let chunksize = self
            .chunksize
            .unwrap_or_else(|| n.div_ceil(4 * self.workers).max(1));
        let replies = self.shared.submit(task, items, chunksize)?;
        let mut results: Vec<Option<Result<R, PoolError>>> = (0..n).map(|_| None).collect();
        for _ in 0..n {
            let (index, result) = replies.recv().map_err(|_| PoolError::Closed)?;
            results[index] = Some(decode(task, index, result));
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(PoolError::Closed)))
            .collect()
    }

    /// Runs `task` on every input; yields the results in input order, each
    /// as soon as it and those before it have finished.
    ///
    /// # Errors
    ///
    /// An item's error is yielded in its place; the others still come.
    pub fn imap<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<Imap<R>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let items = encode_all(task, inputs)?;
        let total = items.len();
        let replies = self
            .shared
            .submit(task, items, self.chunksize.unwrap_or(1))?;
        Ok(Imap {
            task: task.to_owned(),
            replies,
            total,
            next: 0,
            early: BTreeMap::new(),
            _result: std::marker::PhantomData,
        })
    }

    /// Runs `task` on every input; yields each result as soon as it has
    /// finished, every one exactly once, in no set order.
    ///
    /// # Errors
    ///
    /// An item's error is yielded in its place; the others still come.
    pub fn imap_unordered<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<ImapUnordered<R>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let items = encode_all(task, inputs)?;
        let remaining = items.len();
        let replies = self
            .shared
            .submit(task, items, self.chunksize.unwrap_or(1))?;
        Ok(ImapUnordered {
            task: task.to_owned(),
            replies,
            remaining,
            _result: std::marker::PhantomData,
        })
    }

    /// Runs `task` on `args` and waits for its result.
    ///
    /// # Errors
    ///
    /// As [`AsyncResult::get`].
    pub fn apply<A, R>(&self, task: &str, args: &A) -> Result<R, PoolError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        self.apply_async(task, args)?.get()
    }

    /// Starts `task` on `args`; the handle waits for its result.
    ///
    /// # Errors
    ///
    /// [`PoolError::Codec`] if `args` cannot be encoded, [`PoolError::Closed`]
    /// if the pool takes no more work.
    pub fn apply_async<A, R>(&self, task: &str, args: &A) -> Result<AsyncResult<R>, PoolError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let input = Encoded::encode(args).map_err(|e| PoolError::Codec {
            task: task.to_owned(),
            message: e.to_string(),
        })?;
        let replies = self.shared.submit(task, vec![(0, input)], 1)?;
        Ok(AsyncResult {
            task: task.to_owned(),
            replies,
            _result: std::marker::PhantomData,
        })
    }

    /// Takes no new work, waits for every task already submitted to finish
    /// (queued ones included, their results delivered to the handles), then
    /// stops the workers and removes the pool's queues: Python's `close()`
    /// and `join()`. The wait is bounded by [`PoolBuilder::close_timeout`].
    ///
    /// # Errors
    ///
    /// [`PoolError::CloseTimeout`] if the work had not finished in time: the
    /// workers were killed and each unfinished item failed with the same
    /// error. [`PoolError::Manager`] if a queue cannot be removed. Either
    /// way no worker is left running.
    pub fn close(mut self) -> Result<(), PoolError> {
        let ending = if self.finish_submitted() {
            Ending::Finished
        } else {
            Ending::TimedOut
        };
        self.stop(ending)
    }

    /// Stops at once, as dropping the pool does (Python's `terminate()`):
    /// kills the workers and fails every unfinished item, running or queued,
    /// with [`PoolError::Terminated`]; removes the pool's queues.
    ///
    /// # Errors
    ///
    /// [`PoolError::Manager`] if a queue cannot be removed; the workers are
    /// stopped regardless.
    pub fn terminate(mut self) -> Result<(), PoolError> {
        self.stop(Ending::Terminated)
    }

    /// Closes the pool to new work and waits, at most the close timeout,
    /// until no job is queued or running. Meanwhile the collector goes on
    /// handing out jobs and replacing dead workers. Returns whether it got
    /// there.
    fn finish_submitted(&self) -> bool {
        let start = Instant::now();
        let deadline = start
            .checked_add(self.close_timeout)
            .unwrap_or(start + Duration::from_secs(86_400 * 365));
        let mut state = self.shared.lock();
        state.closed = true;
        loop {
            if state.is_idle() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(
                    after = ?self.close_timeout,
                    "pool close timed out; killing the workers"
                );
                return false;
            }
            state = match self.shared.changed.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Stops the collector, fails what is unfinished as `ending` says,
    /// stops or kills the workers and removes the queues.
    fn stop(&mut self, ending: Ending) -> Result<(), PoolError> {
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
        let close_timeout = self.close_timeout;
        let error = |_: usize| match ending {
            Ending::TimedOut => PoolError::CloseTimeout(close_timeout),
            Ending::Finished | Ending::Terminated => PoolError::Terminated,
        };
        let mut state = self.shared.lock();
        state.closed = true;
        let pending = std::mem::take(&mut state.pending);
        drop(state);
        for job in pending {
            fail(job, error);
        }
        if ending != Ending::Finished {
            // A result sent before the end still counts. (No job is queued
            // any more, so this hands out no new work.)
            while let Ok(Some(report)) = self.shared.results.try_get() {
                self.shared.on_report(report);
            }
        }
        let slots = std::mem::take(&mut self.shared.lock().slots);
        let mut names = vec![self.shared.results_name.clone()];
        let mut slots: Vec<Slot> = slots
            .into_iter()
            .map(|mut slot| {
                if let Some(running) = slot.running.take() {
                    fail(running, error);
                }
                if ending == Ending::Finished {
                    let _ = slot.queue.put(&Order::Stop);
                }
                slot
            })
            .collect();
        // One grace for the whole pool, not one per worker.
        let deadline = Instant::now() + STOP_GRACE;
        for slot in &mut slots {
            let left = deadline.saturating_duration_since(Instant::now());
            if ending != Ending::Finished || slot.worker.join_timeout(left).is_err() {
                let _ = slot.worker.kill();
            }
            names.push(slot.queue_name.clone());
        }
        let mut failed = None;
        for name in names {
            if let Err(e) = self.shared.client.remove(&name) {
                failed.get_or_insert(PoolError::from(e));
            }
        }
        if ending == Ending::TimedOut {
            return Err(PoolError::CloseTimeout(close_timeout));
        }
        failed.map_or(Ok(()), Err)
    }
}

/// How a pool's work ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Everything submitted finished: the workers are told to stop.
    Finished,
    /// The close timeout passed first: the workers are killed.
    TimedOut,
    /// Terminated or dropped: the workers are killed.
    Terminated,
}

impl Drop for Pool {
    fn drop(&mut self) {
        if self.collector.is_some() || !self.shared.lock().slots.is_empty() {
            let _ = self.stop(Ending::Terminated);
        }
    }
}

impl State {
    /// No job is queued or running.
    fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.slots.iter().all(|s| s.running.is_none())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start_worker(&self, state: &mut State) -> Result<Slot, PoolError> {
        let id = state.next_worker;
        state.next_worker += 1;
        let queue_name = format!("{}/tasks/{id}", self.prefix);
        let queue = self.client.queue::<Order>(&queue_name, None)?;
        let args = WorkerArgs {
            worker: id,
            tasks: queue_name.clone(),
            results: self.results_name.clone(),
            initializer: self.initializer.clone(),
        };
        let worker = match &self.program {
            Some(program) => self.launcher.spawn_program(program, WORKER_ENTRY, &args),
            None => self.launcher.spawn(WORKER_ENTRY, &args),
        };
        let worker = match worker {
            Ok(worker) => worker,
            Err(e) => {
                let _ = self.client.remove(&queue_name);
                return Err(e.into());
            }
        };
        tracing::debug!(pid = worker.pid(), id, "pool worker started");
        Ok(Slot {
            id,
            worker,
            queue_name,
            queue,
            running: None,
        })
    }

    fn submit(
        &self,
        task: &str,
        items: Vec<(usize, Encoded)>,
        chunksize: usize,
    ) -> Result<mpsc::Receiver<Item>, PoolError> {
        let (reply, replies) = mpsc::channel();
        let mut state = self.lock();
        if state.closed {
            return Err(PoolError::Closed);
        }
        if let Some((task, pid, message)) = &state.broken {
            return Err(PoolError::Initializer {
                task: task.clone(),
                pid: *pid,
                message: message.clone(),
            });
        }
        if state.slots.is_empty() {
            return Err(PoolError::NoWorkers);
        }
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let chunk: Vec<_> = items.by_ref().take(chunksize).collect();
            let id = state.next_job;
            state.next_job += 1;
            state.pending.push_back(Pending {
                job: Job {
                    id,
                    task: task.to_owned(),
                    items: chunk,
                },
                reply: reply.clone(),
                deaths: 0,
            });
        }
        self.dispatch(&mut state);
        Ok(replies)
    }

    /// Gives a pending job to every idle worker.
    fn dispatch(&self, state: &mut State) {
        let State { slots, pending, .. } = state;
        for slot in slots.iter_mut().filter(|s| s.running.is_none()) {
            let Some(next) = pending.pop_front() else {
                return;
            };
            let order = Order::Run(next.job);
            let sent = slot.queue.put(&order);
            let Order::Run(job) = order else {
                unreachable!("built as Run just above")
            };
            let next = Pending {
                job,
                reply: next.reply,
                deaths: next.deaths,
            };
            match sent {
                Ok(()) => slot.running = Some(next),
                Err(e) => fail(next, |_| PoolError::Manager(e.to_string())),
            }
        }
    }

    /// The collector thread: results in, dead workers replaced.
    fn collect(&self) {
        while !self.stopping.load(Ordering::SeqCst) {
            match self.results.get_timeout(POLL) {
                Ok(report) => self.on_report(report),
                Err(Error::Manager(ManagerError::Empty { .. })) => {}
                Err(e) => {
                    if !self.stopping.load(Ordering::SeqCst) {
                        tracing::error!(error = %e, "pool results queue failed");
                        self.fail_all(&e.to_string());
                    }
                    return;
                }
            }
            self.check_workers();
        }
    }

    fn on_report(&self, report: Report) {
        let mut state = self.lock();
        match report {
            Report::Done {
                worker,
                job,
                results,
            } => {
                let Some(slot) = state.slots.iter_mut().find(|s| s.id == worker) else {
                    return;
                };
                if slot.running.as_ref().is_none_or(|p| p.job.id != job) {
                    return;
                }
                if let Some(done) = slot.running.take() {
                    for (index, result) in results {
                        let task = done.job.task.clone();
                        let result = result.map_err(|failure| match failure {
                            Failure::Failed(message) => PoolError::Task {
                                task,
                                index,
                                message,
                            },
                            Failure::WrongArgs { expected, given } => PoolError::WrongArgs {
                                task,
                                index,
                                expected,
                                given,
                            },
                        });
                        let _ = done.reply.send((index, result));
                    }
                }
                self.dispatch(&mut state);
            }
            Report::InitFailed { worker, message } => {
                let pid = state
                    .slots
                    .iter()
                    .find(|s| s.id == worker)
                    .map_or(0, |s| s.worker.pid());
                let task = self
                    .initializer
                    .as_ref()
                    .map(|(t, _)| t.clone())
                    .unwrap_or_default();
                tracing::error!(pid, %message, "pool initializer failed");
                state.broken = Some((task.clone(), pid, message.clone()));
                let error = |_: usize| PoolError::Initializer {
                    task: task.clone(),
                    pid,
                    message: message.clone(),
                };
                for pending in std::mem::take(&mut state.pending) {
                    fail(pending, error);
                }
                for slot in &mut state.slots {
                    if let Some(running) = slot.running.take() {
                        fail(running, error);
                    }
                }
            }
        }
        self.changed.notify_all();
    }

    /// Fails the job of each dead worker and starts a replacement.
    fn check_workers(&self) {
        let mut state = self.lock();
        let dead: Vec<usize> = state
            .slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| (!matches!(s.worker.try_status(), Ok(None))).then_some(i))
            .collect();
        if dead.is_empty() {
            return;
        }
        // A result the worker sent before dying still counts.
        drop(state);
        while let Ok(Some(report)) = self.results.try_get() {
            self.on_report(report);
        }
        state = self.lock();
        for i in dead.into_iter().rev() {
            let mut slot = state.slots.remove(i);
            let pid = slot.worker.pid();
            let how = match slot.worker.join() {
                Ok(()) => "it exited".to_owned(),
                Err(e) => e.to_string(),
            };
            tracing::warn!(pid, %how, "pool worker died");
            if let Some(running) = slot.running.take() {
                // Handed over but never taken: it goes to another worker.
                if let Ok(Some(Order::Run(job))) = slot.queue.try_get() {
                    state.pending.push_front(Pending {
                        job,
                        reply: running.reply,
                        deaths: running.deaths,
                    });
                } else if running.deaths < self.retries {
                    // Taken, perhaps half done: run it again elsewhere.
                    tracing::warn!(
                        pid,
                        task = %running.job.task,
                        retry = running.deaths + 1,
                        of = self.retries,
                        "pool worker died running a job; it runs again"
                    );
                    state.pending.push_front(Pending {
                        deaths: running.deaths + 1,
                        ..running
                    });
                } else {
                    let task = running.job.task.clone();
                    fail(running, |index| PoolError::WorkerDied {
                        pid,
                        task: task.clone(),
                        index,
                        how: how.clone(),
                    });
                }
            }
            let _ = self.client.remove(&slot.queue_name);
            // A closing pool still replaces workers while submitted work
            // waits for one.
            if state.broken.is_some() || (state.closed && state.pending.is_empty()) {
                continue;
            }
            match self.start_worker(&mut state) {
                Ok(replacement) => state.slots.push(replacement),
                Err(e) => tracing::error!(error = %e, "cannot replace a pool worker"),
            }
        }
        if state.slots.is_empty() {
            for pending in std::mem::take(&mut state.pending) {
                fail(pending, |_| PoolError::NoWorkers);
            }
        }
        self.dispatch(&mut state);
        self.changed.notify_all();
    }

    fn fail_all(&self, message: &str) {
        let mut state = self.lock();
        state.closed = true;
        for pending in std::mem::take(&mut state.pending) {
            fail(pending, |_| PoolError::Manager(message.to_owned()));
        }
        for slot in &mut state.slots {
            if let Some(running) = slot.running.take() {
                fail(running, |_| PoolError::Manager(message.to_owned()));
            }
        }
        self.changed.notify_all();
    }
}

/// Sends an error for every item of `pending`.
fn fail(pending: Pending, error: impl Fn(usize) -> PoolError) {
    for (index, _) in &pending.job.items {
        let _ = pending.reply.send((*index, Err(error(*index))));
    }
}

fn encode_all<A: Serialize>(
    task: &str,
    inputs: impl IntoIterator<Item = A>,
) -> Result<Vec<(usize, Encoded)>, PoolError> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| {
            Encoded::encode(&input)
                .map(|encoded| (index, encoded))
                .map_err(|e| PoolError::Codec {
                    task: task.to_owned(),
                    message: format!("item {index}: {e}"),
                })
        })
        .collect()
}

/// Item `index`'s result as an `R`.
fn decode<R: DeserializeOwned>(
    task: &str,
    index: usize,
    result: Result<Encoded, PoolError>,
) -> Result<R, PoolError> {
    result?
        .decode(format_args!("the result of task `{task}` on item {index}"))
        .map_err(|e| match worker_report::mismatch(&e) {
            Some((expected, given)) => PoolError::WrongResult {
                task: task.to_owned(),
                index,
                expected,
                given,
            },
            None => PoolError::Codec {
                task: task.to_owned(),
                message: format!("cannot decode the result of item {index}: {e}"),
            },
        })
}

// ---------------------------------------------------------------- handles

/// The result of [`Pool::apply_async`], to wait for.
#[derive(Debug)]
pub struct AsyncResult<R> {
    task: String,
    replies: mpsc::Receiver<Item>,
    _result: std::marker::PhantomData<fn() -> R>,
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
    task: String,
    replies: mpsc::Receiver<Item>,
    total: usize,
    next: usize,
    early: BTreeMap<usize, Result<Encoded, PoolError>>,
    _result: std::marker::PhantomData<fn() -> R>,
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
    task: String,
    replies: mpsc::Receiver<Item>,
    remaining: usize,
    _result: std::marker::PhantomData<fn() -> R>,
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

//! The pool's supervisor: its workers and their queues, the jobs queued
//! and running, and what happens when a worker dies (the job runs again,
//! up to the retry limit).
//!
//! One thread of the parent, the collector, does every call to the
//! manager once the pool is built: it hands out jobs, reads results,
//! replaces dead workers and, when asked, stops the pool. It alone holds
//! the pool's connection ([`Link`]). The [`Pool`](super::Pool) and its
//! handles only queue work and ask, through the shared [`State`] and a
//! wake-up ([`Supervisor::wake`]); so nothing they do blocks on the
//! manager, and async code can call them.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use manager_core::Encoded;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::tasks::Failure;
use super::worker::{Job, Order, Report, WorkerArgs};
use super::{POLL, PoolError, REPORTS_AT_ONCE, STOP_GRACE, WORKER_ENTRY};
use crate::launcher::{Launcher, Worker};
use crate::proxy::Queue;
use crate::{blocking, worker_report};

/// One item's outcome, still encoded.
pub(super) type Item = (usize, Result<Encoded, PoolError>);

pub(super) struct Pending {
    pub(super) job: Job,
    pub(super) reply: UnboundedSender<Item>,
    /// How many workers died running it so far.
    pub(super) deaths: u32,
}

pub(super) struct Slot {
    pub(super) id: u64,
    pub(super) worker: Worker,
    pub(super) queue_name: String,
    pub(super) queue: blocking::Queue<Order>,
    pub(super) running: Option<Pending>,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) slots: Vec<Slot>,
    pub(super) pending: VecDeque<Pending>,
    pub(super) next_job: u64,
    pub(super) next_worker: u64,
    pub(super) closed: bool,
    pub(super) broken: Option<(String, u32, String)>,
    /// What the pool's owner asked the collector to do: how to end.
    pub(super) stop: Option<Stop>,
}

/// How the owner of a pool asks it to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// Finish the submitted work, waiting at most `timeout` (until
    /// `deadline`), then stop the workers.
    Close {
        deadline: Instant,
        timeout: Duration,
    },
    /// Stop at once.
    Terminate,
}

/// How a pool's work ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Everything submitted finished: the workers are told to stop.
    Finished,
    /// The close timeout (given) passed first: the workers are killed.
    TimedOut(Duration),
    /// Terminated or dropped: the workers are killed.
    Terminated,
}

/// What the pool's owner and the collector thread share.
pub(super) struct Supervisor {
    pub(super) prefix: String,
    pub(super) initializer: Option<(String, Encoded)>,
    pub(super) state: Mutex<State>,
    /// Wakes the collector: work was submitted while a worker was idle, or
    /// the owner asked it to stop.
    pub(super) wake: Notify,
    /// How many times a job whose worker died runs again.
    pub(super) retries: u32,
}

/// The pool's connection to the manager and its means to start workers:
/// used by the thread that builds the pool, then owned by the collector
/// thread, and dropped there (a blocking client may not be dropped inside
/// an async context; this way the pool's owner never holds one).
pub(super) struct Link {
    pub(super) client: blocking::Client,
    pub(super) launcher: Launcher,
    pub(super) program: Option<OsString>,
    pub(super) results_name: String,
    pub(super) results: blocking::Queue<Report>,
    /// The same queue on the same connection, as an async handle: its
    /// wait can be raced against [`Supervisor::wake`].
    pub(super) results_async: Queue<Report>,
}

impl Link {
    /// Waits at most [`POLL`] for reports, and less if `wake` is notified
    /// (then `Ok(None)`). A wait cut short is cancelled in the manager,
    /// and a report it took is given back to the queue.
    fn next_reports(&self, wake: &Notify) -> Result<Option<Vec<Report>>, crate::Error> {
        self.client.mode().run(async {
            tokio::select! {
                reports = self.results_async.get_many_timeout(REPORTS_AT_ONCE, POLL) => {
                    reports.map(Some)
                }
                () = wake.notified() => Ok(None),
            }
        })
    }
}

impl State {
    /// No job is queued or running.
    pub(super) fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.slots.iter().all(|s| s.running.is_none())
    }
}

impl Supervisor {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn start_worker(&self, link: &Link, state: &mut State) -> Result<Slot, PoolError> {
        let id = state.next_worker;
        state.next_worker += 1;
        let queue_name = format!("{}/tasks/{id}", self.prefix);
        let queue = link.client.queue::<Order>(&queue_name, None)?;
        let args = WorkerArgs {
            worker: id,
            tasks: queue_name.clone(),
            results: link.results_name.clone(),
            initializer: self.initializer.clone(),
        };
        let worker = match &link.program {
            Some(program) => link.launcher.spawn_program(program, WORKER_ENTRY, &args),
            None => link.launcher.spawn(WORKER_ENTRY, &args),
        };
        let worker = match worker {
            Ok(worker) => worker,
            Err(e) => {
                let _ = link.client.remove(&queue_name);
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

    pub(super) fn submit(
        &self,
        task: &str,
        items: Vec<(usize, Encoded)>,
        chunksize: usize,
    ) -> Result<UnboundedReceiver<Item>, PoolError> {
        let (reply, replies) = unbounded_channel();
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
        // The collector hands the jobs out; it needs waking only if a
        // worker is idle (otherwise the next result wakes it).
        let idle = state.slots.iter().any(|s| s.running.is_none());
        drop(state);
        if idle {
            self.wake.notify_one();
        }
        Ok(replies)
    }

    /// Asks the collector to end as `stop` says; a terminate overrides a
    /// close under way, never the other way round.
    pub(super) fn ask(&self, stop: Stop) {
        let mut state = self.lock();
        state.closed = true;
        if state.stop != Some(Stop::Terminate) {
            state.stop = Some(stop);
        }
        drop(state);
        self.wake.notify_one();
    }

    /// Gives a pending job to every idle worker.
    pub(super) fn dispatch(&self, state: &mut State) {
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

    /// The collector thread: results in, jobs out, dead workers replaced,
    /// until the owner asks it to end; then it stops the pool and drops the
    /// pool's connection, and returns how the stop went.
    pub(super) fn run(&self, link: Link) -> Result<(), PoolError> {
        let ending = self.serve(&link);
        let outcome = self.stop(&link, ending);
        drop(link);
        outcome
    }

    fn serve(&self, link: &Link) -> Ending {
        let mut healthy = true;
        loop {
            if let Some(ending) = self.asked_to_end() {
                return ending;
            }
            if !healthy {
                // Nothing more to read; wait for the owner.
                link.client.mode().run(self.wake.notified());
                continue;
            }
            // Every report waiting, in one request: with many workers, one
            // round trip per poll rather than per job.
            match link.next_reports(&self.wake) {
                Ok(reports) => {
                    for report in reports.into_iter().flatten() {
                        self.on_report(report);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "pool results queue failed");
                    self.fail_all(&e.to_string());
                    healthy = false;
                    continue;
                }
            }
            self.dispatch(&mut self.lock());
            self.check_workers(link);
        }
    }

    /// How to end, if the owner asked and the time has come.
    fn asked_to_end(&self) -> Option<Ending> {
        let state = self.lock();
        match state.stop? {
            Stop::Terminate => Some(Ending::Terminated),
            Stop::Close { .. } if state.is_idle() => Some(Ending::Finished),
            Stop::Close { deadline, timeout } if Instant::now() >= deadline => {
                tracing::warn!(after = ?timeout, "pool close timed out; killing the workers");
                Some(Ending::TimedOut(timeout))
            }
            Stop::Close { .. } => None,
        }
    }

    /// Fails what is unfinished as `ending` says, stops or kills the
    /// workers and removes the queues.
    pub(super) fn stop(&self, link: &Link, ending: Ending) -> Result<(), PoolError> {
        let error = |_: usize| match ending {
            Ending::TimedOut(timeout) => PoolError::CloseTimeout(timeout),
            Ending::Finished | Ending::Terminated => PoolError::Terminated,
        };
        let mut state = self.lock();
        state.closed = true;
        let pending = std::mem::take(&mut state.pending);
        drop(state);
        for job in pending {
            fail(job, error);
        }
        if ending != Ending::Finished {
            // A result sent before the end still counts. (No job is queued
            // any more, so this hands out no new work.)
            while let Ok(Some(report)) = link.results.try_get() {
                self.on_report(report);
            }
        }
        let slots = std::mem::take(&mut self.lock().slots);
        let mut names = vec![link.results_name.clone()];
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
        // The queue handles go here, on this thread, before the client.
        drop(slots);
        let mut failed = None;
        for name in names {
            if let Err(e) = link.client.remove(&name) {
                failed.get_or_insert(PoolError::from(e));
            }
        }
        if let Ending::TimedOut(timeout) = ending {
            return Err(PoolError::CloseTimeout(timeout));
        }
        failed.map_or(Ok(()), Err)
    }

    pub(super) fn on_report(&self, report: Report) {
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
    }

    /// Fails the job of each dead worker and starts a replacement.
    pub(super) fn check_workers(&self, link: &Link) {
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
        while let Ok(reports) = link
            .results
            .get_many_timeout(REPORTS_AT_ONCE, Duration::ZERO)
        {
            if reports.is_empty() {
                break;
            }
            for report in reports {
                self.on_report(report);
            }
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
            let _ = link.client.remove(&slot.queue_name);
            // A closing pool still replaces workers while submitted work
            // waits for one.
            if state.broken.is_some() || (state.closed && state.pending.is_empty()) {
                continue;
            }
            match self.start_worker(link, &mut state) {
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
    }

    pub(super) fn fail_all(&self, message: &str) {
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
    }
}

/// Sends an error for every item of `pending`.
pub(super) fn fail(pending: Pending, error: impl Fn(usize) -> PoolError) {
    for (index, _) in &pending.job.items {
        let _ = pending.reply.send((*index, Err(error(*index))));
    }
}

pub(super) fn encode_all<A: Serialize>(
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
pub(super) fn decode<R: DeserializeOwned>(
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

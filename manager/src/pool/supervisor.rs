//! The pool's supervisor: its workers and their queues, the jobs queued
//! and running, and what happens when a worker dies (the job runs again,
//! up to the retry limit).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use manager_core::Encoded;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::tasks::Failure;
use super::worker::{Job, Order, Report, WorkerArgs};
use super::{POLL, PoolError, REPORTS_AT_ONCE, WORKER_ENTRY};
use crate::blocking;
use crate::launcher::{Launcher, Worker};
use crate::worker_report;

/// One item's outcome, still encoded.
pub(super) type Item = (usize, Result<Encoded, PoolError>);

pub(super) struct Pending {
    pub(super) job: Job,
    pub(super) reply: mpsc::Sender<Item>,
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
}

pub(super) struct Supervisor {
    pub(super) client: blocking::Client,
    pub(super) launcher: Launcher,
    pub(super) program: Option<OsString>,
    pub(super) prefix: String,
    pub(super) results_name: String,
    pub(super) results: blocking::Queue<Report>,
    pub(super) initializer: Option<(String, Encoded)>,
    pub(super) state: Mutex<State>,
    /// Signalled whenever a job ends or is dropped; [`Pool::close`] waits on it.
    pub(super) changed: Condvar,
    /// How many times a job whose worker died runs again.
    pub(super) retries: u32,
    pub(super) stopping: AtomicBool,
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

    pub(super) fn start_worker(&self, state: &mut State) -> Result<Slot, PoolError> {
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

    pub(super) fn submit(
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

    /// The collector thread: results in, dead workers replaced.
    pub(super) fn collect(&self) {
        while !self.stopping.load(Ordering::SeqCst) {
            // Every report waiting, in one request: with many workers, one
            // round trip per poll rather than per job.
            match self.results.get_many_timeout(REPORTS_AT_ONCE, POLL) {
                Ok(reports) => {
                    for report in reports {
                        self.on_report(report);
                    }
                }
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
        self.changed.notify_all();
    }

    /// Fails the job of each dead worker and starts a replacement.
    pub(super) fn check_workers(&self) {
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
        while let Ok(reports) = self
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
        self.changed.notify_all();
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

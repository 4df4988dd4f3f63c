//! [`ActorSystem`]: the manager's actors on threads of their own.
//!
//! The host application need not use actix or tokio: [`ActorSystem::start`]
//! starts an actix system on a new thread and, when asked for more than
//! one thread, that many actix arbiters for the objects and connections;
//! it starts the registry on the system's thread (with the application's
//! custom object types and the [`Threads`] it places objects on), runs the
//! caller's async setup there (the IPC crate binds its listener this way)
//! and returns once that setup has finished.
//!
//! The threads are named `{name}` (the system's own) and `{name}-1`,
//! `{name}-2`, ... so `top -H` and a profiler show which is which.
//!
//! # Shutdown
//!
//! [`ActorSystem::shutdown`] (or dropping the handle) stops the system and
//! its arbiters: every actor and every task on those threads is dropped,
//! which closes their sockets, and every thread is joined. Nothing on those
//! threads blocks, so this does not hang.

use std::future::Future;
use std::sync::mpsc as std_mpsc;
use std::thread;

use actix::{Actor, Addr};
use actix_rt::Arbiter;

use crate::error::StartError;
use crate::platform;
use crate::registry::RegistryActor;
use crate::threads::Threads;

/// A running actor system with its registry.
#[derive(Debug)]
pub struct ActorSystem {
    system: actix::System,
    registry: Addr<RegistryActor>,
    threads: Threads,
    thread: Option<thread::JoinHandle<()>>,
    /// The threads besides the system's own, joined at shutdown.
    arbiters: Vec<Arbiter>,
}

impl ActorSystem {
    /// Starts the system with `threads` threads for objects and connections
    /// (at least one; with more than one, the system's own thread is kept for
    /// the registry, so there are `threads + 1`), named for `thread_name`,
    /// with `registry` (made with
    /// [`RegistryActor::with_custom_types`] and the like, not yet started),
    /// then runs `setup` on the system's own thread with the registry's
    /// address and the [`Threads`], and returns its output.
    ///
    /// # Errors
    ///
    /// [`StartError::Spawn`] if a thread cannot be started,
    /// [`StartError::Setup`] with `setup`'s error, and
    /// [`StartError::Died`] if the thread stopped before answering.
    pub fn start<F, Fut, T, E>(
        thread_name: &str,
        threads: usize,
        registry: RegistryActor,
        setup: F,
    ) -> Result<(Self, T), StartError>
    where
        F: FnOnce(Addr<RegistryActor>, Threads) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>>,
        T: Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let (tx, rx) = std_mpsc::sync_channel(1);
        let base_name = thread_name.to_owned();
        let thread = thread::Builder::new()
            .name(thread_name.to_owned())
            .spawn(move || {
                let runner = actix::System::new();
                // One thread: everything on the system's. More: that many
                // arbiters for objects and connections, the system's thread
                // for the registry and the accept loop only.
                let arbiters = if threads > 1 {
                    start_arbiters(&base_name, threads)
                } else {
                    Ok(Vec::new())
                };
                let arbiters = match arbiters {
                    Ok(arbiters) => arbiters,
                    Err(e) => {
                        let _ = tx.send(Err(StartError::Spawn(e)));
                        return;
                    }
                };
                let placed = Threads::new(arbiters.iter().map(Arbiter::handle).collect());
                let started = runner.block_on({
                    let placed = placed.clone();
                    async move {
                        let registry = registry.on_threads(placed.clone()).start();
                        let output = setup(registry.clone(), placed).await;
                        output.map(|t| (t, registry))
                    }
                });
                match started {
                    Ok((output, registry)) => {
                        let _ = tx.send(Ok((
                            actix::System::current(),
                            registry,
                            placed,
                            arbiters,
                            output,
                        )));
                        if let Err(e) = runner.run() {
                            tracing::error!(error = %e, "actor system stopped with an error");
                        }
                    }
                    Err(e) => {
                        stop_arbiters(arbiters);
                        let _ = tx.send(Err(StartError::Setup(Box::new(e))));
                    }
                }
            })
            .map_err(StartError::Spawn)?;
        match rx.recv() {
            Ok(Ok((system, registry, threads, arbiters, output))) => Ok((
                ActorSystem {
                    system,
                    registry,
                    threads,
                    thread: Some(thread),
                    arbiters,
                },
                output,
            )),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(StartError::Died)
            }
        }
    }

    /// The registry's address, usable from any thread.
    pub fn registry(&self) -> &Addr<RegistryActor> {
        &self.registry
    }

    /// The actix system, to spawn more work on its thread.
    pub fn system(&self) -> &actix::System {
        &self.system
    }

    /// The threads objects and connections are placed on.
    pub fn threads(&self) -> &Threads {
        &self.threads
    }

    /// Stops every actor and task, and waits for the thread to end.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(thread) = self.thread.take() {
            // Stopping the system stops its arbiters too; each is joined
            // so that no actor outlives the handle.
            self.system.stop();
            stop_arbiters(std::mem::take(&mut self.arbiters));
            if thread.join().is_err() {
                tracing::error!("actor system thread panicked");
            }
        }
    }
}

/// Starts `count` arbiters named `{name}-1`, `{name}-2`, ... on the
/// current actix system; stops those already started if one fails.
fn start_arbiters(name: &str, count: usize) -> std::io::Result<Vec<Arbiter>> {
    let mut arbiters = Vec::with_capacity(count);
    for i in 1..=count {
        let thread_name = format!("{name}-{i}");
        let started = Arbiter::try_with_tokio_rt(move || {
            platform::name_this_thread(&thread_name);
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        });
        match started {
            Ok(arbiter) => arbiters.push(arbiter),
            Err(e) => {
                stop_arbiters(arbiters);
                return Err(e);
            }
        }
    }
    Ok(arbiters)
}

/// Stops `arbiters` and waits for their threads.
fn stop_arbiters(arbiters: Vec<Arbiter>) {
    for arbiter in &arbiters {
        arbiter.stop();
    }
    for arbiter in arbiters {
        if arbiter.join().is_err() {
            tracing::error!("manager thread panicked");
        }
    }
}

impl Drop for ActorSystem {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

//! [`ActorSystem`]: the manager's actors on a thread of their own.
//!
//! The host application need not use actix or tokio: [`ActorSystem::start`]
//! starts an actix system on a new thread, starts the registry in it (with
//! the application's custom object types), runs
//! the caller's async setup there (the IPC crate binds its listener this way)
//! and returns once that setup has finished.
//!
//! # Shutdown
//!
//! [`ActorSystem::shutdown`] (or dropping the handle) stops the system: every
//! actor and every task on that thread is dropped, which closes their sockets,
//! and the thread is joined. Nothing on that thread blocks, so this does not
//! hang.

use std::future::Future;
use std::sync::mpsc as std_mpsc;
use std::thread;

use actix::{Actor, Addr};

use crate::error::StartError;
use crate::registry::RegistryActor;

/// A running actor system with its registry.
#[derive(Debug)]
pub struct ActorSystem {
    system: actix::System,
    registry: Addr<RegistryActor>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ActorSystem {
    /// Starts the system on a new thread named `thread_name` with
    /// `registry` (made with [`RegistryActor::with_custom_types`] and the
    /// like, not yet started), then runs `setup` on it with the registry's
    /// address and returns its output.
    ///
    /// # Errors
    ///
    /// [`StartError::Spawn`] if the thread cannot be started,
    /// [`StartError::Setup`] with `setup`'s error, and
    /// [`StartError::Died`] if the thread stopped before answering.
    pub fn start<F, Fut, T, E>(
        thread_name: &str,
        registry: RegistryActor,
        setup: F,
    ) -> Result<(Self, T), StartError>
    where
        F: FnOnce(Addr<RegistryActor>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>>,
        T: Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let (tx, rx) = std_mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name(thread_name.to_owned())
            .spawn(move || {
                let runner = actix::System::new();
                let started = runner.block_on(async move {
                    let registry = registry.start();
                    let output = setup(registry.clone()).await;
                    output.map(|t| (t, registry))
                });
                match started {
                    Ok((output, registry)) => {
                        let _ = tx.send(Ok((actix::System::current(), registry, output)));
                        if let Err(e) = runner.run() {
                            tracing::error!(error = %e, "actor system stopped with an error");
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(StartError::Setup(Box::new(e))));
                    }
                }
            })
            .map_err(StartError::Spawn)?;
        match rx.recv() {
            Ok(Ok((system, registry, output))) => Ok((
                ActorSystem {
                    system,
                    registry,
                    thread: Some(thread),
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

    /// Stops every actor and task, and waits for the thread to end.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.system.stop();
            if thread.join().is_err() {
                tracing::error!("actor system thread panicked");
            }
        }
    }
}

impl Drop for ActorSystem {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

//! [`discard`]: frees large collections on a thread of their own.
//!
//! An object shares its thread with others (see
//! [`Threads`](crate::threads::Threads)), so whatever an object frees,
//! every other object on that thread waits for. Freeing a list of 8 million items
//! (one allocation and one reference count each) takes tens of
//! milliseconds. So a collection of [`DISCARD_OFF_THREAD`] items or more,
//! cleared, replaced or removed with its object, is handed to one dropper
//! thread instead, which frees it while the actors go on.
//!
//! # Backpressure
//!
//! The dropper takes at most [`DISCARD_QUEUE`] collections waiting to be
//! freed. When it has that many (or could not be started), the collection
//! is freed on the spot, as before: [`discard`] never blocks an actor.

use std::sync::OnceLock;
use std::sync::mpsc::{self, SyncSender, TrySendError};

/// Collections of at least this many items are freed on the dropper
/// thread; smaller ones where they are dropped.
pub const DISCARD_OFF_THREAD: usize = 65_536;

/// How many collections may wait for the dropper before [`discard`] frees
/// on the spot.
pub const DISCARD_QUEUE: usize = 64;

/// Something the dropper thread frees.
type Garbage = Box<dyn Send>;

/// The dropper thread's queue; `None` if the thread could not be started.
fn dropper() -> Option<&'static SyncSender<Garbage>> {
    static DROPPER: OnceLock<Option<SyncSender<Garbage>>> = OnceLock::new();
    DROPPER
        .get_or_init(|| {
            let (tx, rx) = mpsc::sync_channel::<Garbage>(DISCARD_QUEUE);
            let started = std::thread::Builder::new()
                .name("manager-dropper".to_owned())
                .spawn(move || {
                    for garbage in rx {
                        drop(garbage);
                    }
                });
            match started {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::warn!(error = %e, "no dropper thread; large collections are freed inline");
                    None
                }
            }
        })
        .as_ref()
}

/// Frees `value`, a collection of `len` items: on the dropper thread if
/// `len` is at least [`DISCARD_OFF_THREAD`] and the dropper has room, here
/// otherwise. Returns whether it went to the dropper.
pub fn discard<T: Send + 'static>(value: T, len: usize) -> bool {
    if len < DISCARD_OFF_THREAD {
        return false;
    }
    let Some(dropper) = dropper() else {
        return false;
    };
    match dropper.try_send(Box::new(value)) {
        Ok(()) => true,
        // Full or gone: freed here, when the refused box drops.
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, Sender};
    use std::thread::ThreadId;
    use std::time::Duration;

    use super::*;

    /// Reports the thread it is dropped on.
    struct Probe(Sender<ThreadId>);

    impl Drop for Probe {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().id());
        }
    }

    fn probe() -> (Probe, Receiver<ThreadId>) {
        let (tx, rx) = mpsc::channel();
        (Probe(tx), rx)
    }

    #[test]
    fn a_large_collection_is_freed_on_another_thread() {
        let (value, dropped) = probe();
        assert!(discard(value, DISCARD_OFF_THREAD));
        let on = dropped
            .recv_timeout(Duration::from_secs(10))
            .expect("freed within the deadline");
        assert_ne!(on, std::thread::current().id());
    }

    #[test]
    fn a_small_collection_is_freed_here() {
        let (value, dropped) = probe();
        assert!(!discard(value, DISCARD_OFF_THREAD - 1));
        assert_eq!(dropped.try_recv(), Ok(std::thread::current().id()));
    }
}

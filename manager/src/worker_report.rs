//! How a worker tells its parent why it failed: a pipe.
//!
//! The launcher opens a pipe for each worker and passes the write end to
//! it (its number in [`ENV_REPORT_FD`](crate::launcher::ENV_REPORT_FD)). A worker whose entry fails, panics
//! or is refused writes one [`Outcome`] there before it exits; the parent
//! reads it once the worker has ended, so [`Worker::join`] can say what
//! happened rather than only an exit code. A pipe needs no file to clean
//! up, and a worker that dies without a word leaves it empty: the exit
//! status then tells the story alone.
//!
//! The parent reads without blocking (a grandchild may hold the write end)
//! and at most [`MAX_REPORT`] bytes; messages are cut to fit.
//!
//! [`Worker::join`]: crate::launcher::Worker::join

use std::io::Read;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use manager_core::{ManagerError, codec, short_type_name};
use serde::{Deserialize, Serialize};

use crate::launcher::env::{ENV_ENTRY, ENV_REPORT_FD};
use crate::platform;

/// The most bytes of a report the parent reads (within one pipe buffer, so
/// a worker's one write never blocks).
const MAX_REPORT: usize = 16 * 1024;

/// The longest message a report carries, in bytes.
const MAX_MESSAGE: usize = 4 * 1024;

/// How many entry names a report of an unknown entry carries, and the
/// longest each may be, in bytes.
const MAX_NAMES: usize = 64;
const MAX_NAME: usize = 128;

/// Why a worker did not end well, as it tells its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Outcome {
    /// The entry returned this error.
    Failed(String),
    /// The entry panicked with this message, if it had one.
    Panicked(Option<String>),
    /// No entry of this name; these are the known ones.
    UnknownEntry(Vec<String>),
    /// The arguments are of another type than the entry takes.
    WrongArgs {
        /// The type the entry takes.
        expected: String,
        /// The type the arguments were encoded from.
        given: String,
    },
    /// The arguments could not be read.
    BadArgs(String),
    /// The program's main reached this call without having been
    /// dispatched by `Entries::run_if_worker`.
    NotDispatched(String),
}

/// Set once [`Entries`](crate::launcher::Entries) dispatched this process
/// to an entry: from then on it may start managers and launch workers.
static DISPATCHED: AtomicBool = AtomicBool::new(false);

/// Set once this process wrote its report (it writes at most one).
static REPORTED: AtomicBool = AtomicBool::new(false);

/// The report fd this process inherited, if any.
fn report_fd() -> Option<RawFd> {
    std::env::var(ENV_REPORT_FD).ok()?.parse().ok()
}

/// Marks this process as dispatched to its entry, and keeps the report fd
/// from the processes it starts.
pub(crate) fn mark_dispatched() {
    DISPATCHED.store(true, Ordering::SeqCst);
    if let Some(fd) = report_fd() {
        platform::close_on_exec(fd);
    }
}

/// Tells the parent how this worker ends (once; later calls do nothing).
pub(crate) fn report(outcome: &Outcome) {
    let Some(fd) = report_fd() else {
        return;
    };
    if REPORTED.swap(true, Ordering::SeqCst) {
        return;
    }
    platform::close_on_exec(fd);
    let outcome = match outcome {
        Outcome::Failed(m) => Outcome::Failed(cut(m)),
        Outcome::Panicked(m) => Outcome::Panicked(m.as_deref().map(cut)),
        Outcome::BadArgs(m) => Outcome::BadArgs(cut(m)),
        Outcome::NotDispatched(m) => Outcome::NotDispatched(cut(m)),
        // At most 64 names of at most 128 bytes: the report stays within
        // what the parent reads.
        Outcome::UnknownEntry(known) => Outcome::UnknownEntry(
            known
                .iter()
                .take(MAX_NAMES)
                .map(|k| cut_to(k, MAX_NAME))
                .collect(),
        ),
        Outcome::WrongArgs { expected, given } => Outcome::WrongArgs {
            expected: cut(expected),
            given: cut(given),
        },
    };
    if let Ok(bytes) = codec::encode(&outcome)
        && let Err(e) = platform::write_to_pipe(fd, &bytes)
    {
        tracing::debug!(error = %e, "cannot report to the parent");
    }
}

/// The longest prefix of `message` within [`MAX_MESSAGE`] bytes.
fn cut(message: &str) -> String {
    cut_to(message, MAX_MESSAGE)
}

/// The longest prefix of `message` within `max` bytes, marked as cut.
fn cut_to(message: &str, max: usize) -> String {
    if message.len() <= max {
        return message.to_owned();
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// Refuses `what` (for example "Manager::start") in a process that was
/// launched as a worker but not dispatched by `Entries::run_if_worker`:
/// such a program runs its whole `main` in every worker, which would start
/// managers and launch workers without end. Reports the refusal to the
/// parent. Returns the message to put in the caller's error.
/// Whether this process was launched as a worker and has not been
/// dispatched to its entry (yet, or ever: its `main` forgot
/// `Entries::run_if_worker`).
pub(crate) fn is_undispatched_worker() -> bool {
    std::env::var_os(ENV_ENTRY).is_some() && !DISPATCHED.load(Ordering::SeqCst)
}

pub(crate) fn refuse_undispatched(what: &str) -> Result<(), String> {
    let Ok(entry) = std::env::var(ENV_ENTRY) else {
        return Ok(());
    };
    if DISPATCHED.load(Ordering::SeqCst) {
        return Ok(());
    }
    let message = format!(
        "this process was launched as worker `{entry}`, but its main reached {what} without calling Entries::run_if_worker first"
    );
    report(&Outcome::NotDispatched(what.to_owned()));
    Err(message)
}

/// The parent's end of a worker's report pipe.
#[derive(Debug)]
pub(crate) struct ReportReader {
    pipe: Option<std::io::PipeReader>,
    outcome: Option<Outcome>,
}

impl ReportReader {
    /// A new pipe: the reader, and the writer to pass to the worker.
    pub(crate) fn new() -> std::io::Result<(ReportReader, std::io::PipeWriter)> {
        let (reader, writer) = std::io::pipe()?;
        platform::set_nonblocking(&reader)?;
        Ok((
            ReportReader {
                pipe: Some(reader),
                outcome: None,
            },
            writer,
        ))
    }

    /// What the worker reported, read once it has ended.
    pub(crate) fn outcome(&mut self) -> Option<&Outcome> {
        if let Some(mut pipe) = self.pipe.take() {
            let mut bytes = Vec::new();
            let mut chunk = [0_u8; 4096];
            while bytes.len() < MAX_REPORT {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    // WouldBlock: a grandchild holds the write end; what
                    // the worker wrote is already there.
                    Err(_) => break,
                }
            }
            self.outcome = codec::decode(&bytes).ok();
        }
        self.outcome.as_ref()
    }
}

/// The fd number to put in `ENV_REPORT_FD` for `writer`.
pub(crate) fn fd_of(writer: &std::io::PipeWriter) -> RawFd {
    writer.as_raw_fd()
}

/// The type a typed read wanted and what it was given, as a Rust user
/// writes them, if `error` is such a read's refusal: another type
/// (`WrongType`), or a number of the family that does not fit
/// (`DoesNotFit`, given as the stored type and the value: `i64 -1`).
/// `None` for any other error.
pub(crate) fn mismatch(error: &ManagerError) -> Option<(String, String)> {
    match error {
        ManagerError::WrongType {
            stored, requested, ..
        } => Some((short_type_name(requested), short_type_name(stored))),
        ManagerError::DoesNotFit {
            value,
            stored,
            requested,
            ..
        } => Some((
            short_type_name(requested),
            format!("{} {value}", short_type_name(stored)),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatches_name_types_as_written() {
        let wrong = ManagerError::WrongType {
            what: "v".into(),
            stored: "alloc::string::String".into(),
            requested: "my_app::Job".into(),
        };
        // A user's own path is kept: two `Job`s of two crates differ.
        assert_eq!(
            mismatch(&wrong),
            Some(("my_app::Job".to_owned(), "String".to_owned()))
        );
        let too_big = ManagerError::DoesNotFit {
            what: "v".into(),
            value: "-1".into(),
            stored: "i64".into(),
            requested: "u64".into(),
        };
        assert_eq!(
            mismatch(&too_big),
            Some(("u64".to_owned(), "i64 -1".to_owned()))
        );
        assert_eq!(mismatch(&ManagerError::ShuttingDown), None);
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_MESSAGE);
        let cut = cut(&long);
        assert!(cut.len() <= MAX_MESSAGE + '…'.len_utf8());
    }
}

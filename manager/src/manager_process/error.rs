//! [`ManagerProcessError`]: why a manager process did not start or stop.

use std::process::ExitStatus;
use std::time::Duration;

#[cfg(doc)]
use super::ManagerProcess;
use crate::auth::AuthKeyError;

/// A manager process could not be started or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerProcessError {
    /// This process is itself the child a `ManagerProcess` started: its
    /// `main` reached [`ManagerProcess::start`] without first calling
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker).
    #[error(
        "this process was started as a manager process, but its main did not call Entries::run_if_worker first"
    )]
    InManagerProcess,
    /// This process was launched as a worker, but its `main` reached
    /// [`ManagerProcess::start`] without first calling
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker):
    /// it would launch processes without end.
    #[error("{0}; call it at the start of main")]
    NotDispatched(String),
    /// No random key could be made.
    #[error(transparent)]
    AuthKey(#[from] AuthKeyError),
    /// The path of the running program could not be found.
    #[error("find the current executable: {0}")]
    CurrentExe(std::io::Error),
    /// The OS refused to start the process.
    #[error("start manager process {program}: {cause}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS's reason.
        cause: std::io::Error,
    },
    /// The child reported that its manager could not start (for example the
    /// address is in use).
    #[error("manager process {program} (pid {pid}): {reason}")]
    Failed {
        /// The program.
        program: String,
        /// Its process id.
        pid: u32,
        /// What the child said.
        reason: String,
    },
    /// The child ended before it listened.
    #[error(
        "manager process {program} (pid {pid}) ended before it listened ({status}); does its main call Entries::run_if_worker first?"
    )]
    EndedEarly {
        /// The program.
        program: String,
        /// Its process id.
        pid: u32,
        /// How it ended.
        status: ExitStatus,
    },
    /// The child did not listen in time; it was killed.
    #[error("manager process {program} (pid {pid}) was not listening after {after:?}; killed it")]
    NotReady {
        /// The program.
        program: String,
        /// Its process id.
        pid: u32,
        /// How long the wait lasted.
        after: Duration,
    },
    /// The child ended badly: by a signal other than our SIGTERM, or with an
    /// exit code other than 0.
    #[error("manager process (pid {pid}) ended badly: {status}")]
    Ended {
        /// Its process id.
        pid: u32,
        /// How it ended.
        status: ExitStatus,
    },
    /// The child did not stop within the deadline after SIGTERM; it was
    /// killed.
    #[error("manager process (pid {pid}) did not stop within {after:?} of SIGTERM; killed it")]
    StopTimeout {
        /// Its process id.
        pid: u32,
        /// The deadline that passed.
        after: Duration,
    },
    /// Signalling or waiting for the child failed.
    #[error("stop manager process (pid {pid}): {cause}")]
    Wait {
        /// Its process id.
        pid: u32,
        /// The OS's reason.
        cause: std::io::Error,
    },
}

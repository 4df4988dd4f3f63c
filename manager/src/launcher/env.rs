//! The contract between a launcher and the worker it starts: the
//! environment variables that carry the manager's address and key, the
//! entry to run and its arguments, and the exit codes that say how a worker
//! ended.

use crate::error::Error;
use crate::{Address, AuthKey};

#[cfg(doc)]
use manager_core::Encoded;

/// Environment variable holding the manager's address.
pub const ENV_ADDRESS: &str = "MANAGER_ADDRESS";
/// Environment variable holding the authkey, in hex.
pub const ENV_AUTHKEY: &str = "MANAGER_AUTHKEY";
/// Environment variable naming the entry a worker runs.
pub const ENV_ENTRY: &str = "MANAGER_WORKER_ENTRY";
/// Environment variable holding the entry's arguments, in hex: an
/// [`Encoded`] value (the codec's bytes and the arguments' type).
pub const ENV_ARGS: &str = "MANAGER_WORKER_ARGS";
/// Environment variable holding the number of the fd a worker reports its
/// failure on (see [What happens when a worker ends](super#what-happens-when-a-worker-ends)).
pub const ENV_REPORT_FD: &str = "MANAGER_WORKER_REPORT_FD";

/// The most bytes of encoded arguments an entry may be given (they travel in
/// one environment variable, which Linux limits to 128 KiB).
pub const MAX_ARGS_LEN: usize = 60 * 1024;

/// The exit code of a worker whose entry panicked (Rust's own for a panic).
pub const PANIC_EXIT_CODE: i32 = 101;

/// The exit code of a worker that found no entry of its name.
pub const UNKNOWN_ENTRY_EXIT_CODE: i32 = 2;

/// The exit code of a worker that refused its arguments.
pub const ARGS_EXIT_CODE: i32 = 3;

/// Reads the manager's address and key from the environment.
pub(crate) fn manager_from_env() -> Result<(Address, AuthKey), Error> {
    let var = |name: &str| {
        std::env::var(name).map_err(|_| {
            Error::Environment(format!(
                "{name} is not set; was this process started by a launcher?"
            ))
        })
    };
    let address = var(ENV_ADDRESS)?
        .parse::<Address>()
        .map_err(|e| Error::Environment(format!("{ENV_ADDRESS}: {e}")))?;
    let key = AuthKey::from_hex(&var(ENV_AUTHKEY)?)
        .map_err(|e| Error::Environment(format!("{ENV_AUTHKEY}: {e}")))?;
    Ok((address, key))
}

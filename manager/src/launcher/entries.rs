//! The worker's side: [`Entries`] names the functions a program can run as
//! a worker, and runs the one its launcher asked for.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use manager_core::{Encoded, codec};
use serde::de::DeserializeOwned;

use super::env::{ARGS_EXIT_CODE, ENV_ARGS, ENV_ENTRY, PANIC_EXIT_CODE, UNKNOWN_ENTRY_EXIT_CODE};
use crate::worker_report::{self, Outcome};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type EntryFn = Box<dyn Fn(&str) -> Result<(), Outcome>>;

/// The entry functions a program can run as a worker, and the custom
/// object types it serves when it runs as a
/// [`ManagerProcess`](crate::manager_process::ManagerProcess).
#[must_use = "call `run_if_worker` (or `run`) at the start of main, or workers run main again"]
pub struct Entries {
    entries: BTreeMap<String, EntryFn>,
    #[cfg(feature = "manager")]
    custom: manager_actors::CustomTypes,
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Entries");
        out.field("entries", &self.entries.keys().collect::<Vec<_>>());
        #[cfg(feature = "manager")]
        out.field("custom", &self.custom);
        out.finish()
    }
}

impl Default for Entries {
    fn default() -> Self {
        Self::new()
    }
}

impl Entries {
    /// No entries yet.
    pub fn new() -> Self {
        Entries {
            entries: BTreeMap::new(),
            #[cfg(feature = "manager")]
            custom: manager_actors::CustomTypes::new(),
        }
    }

    /// Registers the custom object type `T` with the manager this program
    /// serves when it is started as a
    /// [`ManagerProcess`](crate::manager_process::ManagerProcess) (the
    /// child runs `main` again, so this is where it learns the types). An
    /// in-process manager takes them from
    /// [`ManagerBuilder::register`](crate::ManagerBuilder::register) instead.
    ///
    /// # Panics
    ///
    /// As [`ManagerBuilder::register`](crate::ManagerBuilder::register).
    #[cfg(feature = "manager")]
    pub fn register<T: manager_actors::CustomObject>(mut self) -> Self {
        self.custom = self.custom.register::<T>();
        self
    }

    /// Registers `function` under `name`; a worker launched with that name
    /// runs it with the arguments its launcher gave, if they are of type
    /// `A` (otherwise it refuses them, see
    /// [Arguments are typed](super#arguments-are-typed)).
    pub fn entry<A, E, F>(mut self, name: &str, function: F) -> Self
    where
        A: DeserializeOwned,
        E: Into<BoxError>,
        F: Fn(A) -> Result<(), E> + 'static,
    {
        let owned = name.to_owned();
        self.entries.insert(
            name.to_owned(),
            Box::new(move |hex_args: &str| {
                let args: A = decode_args(&owned, hex_args)?;
                function(args).map_err(|e| Outcome::Failed(error_chain(&*e.into())))
            }),
        );
        self
    }

    /// If this process was launched as a worker, runs its entry and exits
    /// with its outcome (0: success, 1: error, 101: panic, 2: no such
    /// entry, 3: arguments refused), which it also reports to its parent.
    /// Otherwise returns at once.
    ///
    /// It also runs the built-in entry of a
    /// [`ManagerProcess`](crate::manager_process::ManagerProcess): the
    /// manager server, until it is told to stop or its parent dies.
    pub fn run_if_worker(&self) {
        if let Ok(entry) = std::env::var(ENV_ENTRY) {
            worker_report::mark_dispatched();
            // Built-in entry: the server of a `ManagerProcess` (issue 4).
            #[cfg(feature = "manager")]
            if entry == crate::manager_process::SERVER_ENTRY {
                std::process::exit(crate::manager_process::run_server_entry(&self.custom));
            }
            std::process::exit(self.run_entry(&entry));
        }
    }

    /// Runs the entry named in the environment and exits; for binaries that
    /// only ever run as workers. Exits with code 2 if none is named.
    pub fn run(&self) -> ! {
        self.run_if_worker();
        eprintln!("this program runs only as a worker: {ENV_ENTRY} is not set");
        std::process::exit(2);
    }

    fn run_entry(&self, entry: &str) -> i32 {
        let Some(function) = self.entries.get(entry) else {
            let known: Vec<String> = self.entries.keys().cloned().collect();
            eprintln!(
                "no worker entry named `{entry}` (known: {})",
                known.join(", ")
            );
            worker_report::report(&Outcome::UnknownEntry(known));
            return UNKNOWN_ENTRY_EXIT_CODE;
        };
        let args = std::env::var(ENV_ARGS).unwrap_or_default();
        let outcome = match catch_unwind(AssertUnwindSafe(|| function(&args))) {
            Ok(Ok(())) => return 0,
            Ok(Err(outcome)) => outcome,
            // The panic hook has already printed the message.
            Err(payload) => Outcome::Panicked(panic_message(&*payload)),
        };
        let code = match &outcome {
            Outcome::Failed(message) => {
                eprintln!(
                    "worker `{entry}` (pid {}) failed: {message}",
                    std::process::id()
                );
                1
            }
            Outcome::WrongArgs { expected, given } => {
                eprintln!(
                    "worker `{entry}` (pid {}) refused its arguments: it takes `{expected}`, but was given `{given}`",
                    std::process::id()
                );
                ARGS_EXIT_CODE
            }
            Outcome::BadArgs(reason) => {
                eprintln!(
                    "worker `{entry}` (pid {}) cannot read its arguments: {reason}",
                    std::process::id()
                );
                ARGS_EXIT_CODE
            }
            Outcome::Panicked(_) => PANIC_EXIT_CODE,
            Outcome::UnknownEntry(_) | Outcome::NotDispatched(_) => 1,
        };
        worker_report::report(&outcome);
        code
    }
}

/// Reads an entry's arguments from their hex form in [`ENV_ARGS`], refusing
/// them if they are not of type `A`. No arguments at all (the variable unset
/// or empty, as for a process started without a launcher) are `()`.
fn decode_args<A: DeserializeOwned>(entry: &str, hex_args: &str) -> Result<A, Outcome> {
    let value: Encoded = if hex_args.is_empty() {
        Encoded::encode(&()).map_err(|e| Outcome::BadArgs(e.to_string()))?
    } else {
        let bytes = hex::decode(hex_args)
            .map_err(|e| Outcome::BadArgs(format!("{ENV_ARGS} is not hex: {e}")))?;
        codec::decode(&bytes).map_err(|e| Outcome::BadArgs(e.to_string()))?
    };
    value
        .decode::<A>(format_args!("arguments of worker `{entry}`"))
        .map_err(|e| match worker_report::mismatch(&e) {
            Some((expected, given)) => Outcome::WrongArgs { expected, given },
            None => Outcome::BadArgs(e.to_string()),
        })
}

/// An error's message followed by those of its sources that it does not
/// already say, joined with ": ".
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !message.contains(&said) {
            message.push_str(": ");
            message.push_str(&said);
        }
        source = cause.source();
    }
    message
}

/// The message a panic was started with, if it was a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

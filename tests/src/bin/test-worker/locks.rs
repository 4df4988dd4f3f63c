//! Worker entries for the tests of locks, re-entrant locks, semaphores and conditions.

use manager_ipc::launcher::Entries;

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
}

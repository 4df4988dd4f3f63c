//! Arguments shared by the tests of locks, re-entrant locks, semaphores and conditions and their worker entries.

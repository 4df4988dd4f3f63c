//! Arguments shared by the tests of queues, joinable queues, events and barriers and their worker entries.

//! Arguments shared by the tests of lists, dicts, sets, values and arrays and their worker entries.

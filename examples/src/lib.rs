//! Runnable programs that show the manager at work; see the `examples/` folder.

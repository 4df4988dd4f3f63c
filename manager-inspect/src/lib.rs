//! `manager-inspect`: what a running manager holds, its clients and its
//! totals, read over the same authenticated protocol as every other
//! client ([`manager::Client::inspect`]) and shown three ways. The
//! `manager-inspect` binary of this package is a thin command line over
//! them:
//!
//! - [`render`]: the page printed once, as aligned text tables (the
//!   default).
//! - [`json`]: the snapshot as JSON for scripts (`--json`), with durations
//!   in milliseconds and times in RFC 3339 (UTC).
//! - [`watch()`]: a live terminal view (`--watch`), refreshed every second,
//!   sortable, filterable and scrollable, with the request rate as a
//!   sparkline.
//!
//! Programs that inspect their own manager can use the same three.
//!
//! # Example
//!
//! ```
//! let manager = manager::Manager::start()?;
//! let client = manager.connect()?;
//! client.queue::<u32>("jobs", None)?.put(&1)?;
//! let snapshot = client.inspect()?;
//! let page = manager_inspect::render(manager.address(), &snapshot);
//! assert!(page.contains("jobs"));
//! assert!(page.contains("1 item"));
//! let json = manager_inspect::json::snapshot(&snapshot);
//! assert_eq!(json["objects"][0]["name"], "jobs");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod json;
mod text;
pub mod watch;

pub use text::render;
pub use watch::{WatchError, watch};

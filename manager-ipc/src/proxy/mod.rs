//! Typed proxies: handles on one shared object that turn method calls into
//! requests on the process's [`Client`](crate::Client) connection.
//!
//! Each proxy is cheap to clone and shares its client's connection. These are
//! the async proxies; [`crate::blocking`] wraps each for plain threads.

mod namespace;

pub use namespace::{Namespace, NamespaceSnapshot};

//! Typed proxies: handles on one shared object that turn method calls into
//! requests on the process's [`Client`](crate::Client) connection.
//!
//! Every proxy is one generic handle, [`Proxy<K, M>`](Proxy): an
//! [`ObjectRef`] with a kind marker `K` (one of [`kinds`]) and a
//! [`Mode`](crate::Mode) `M` in its type. Users name it by its kind's alias:
//! `Queue<T>` is `Proxy<kinds::Queue<T>, Async>` and returns futures,
//! `Queue<T, Blocking>` ([`crate::blocking::Queue`]) runs each call on the
//! calling thread; the methods are the same. Each is cheap to clone and
//! shares its client's connection. What every proxy has (name, id,
//! `with_timeout`, `share`) is written once in `handle.rs`; one file per
//! object kind adds its methods.

#[macro_use]
mod handle;

mod custom;
mod object;
pub mod shared;

pub use custom::Custom;
pub use handle::{Kind, Proxy};
pub use object::{ObjectRef, WAIT_GRACE, current_owner, encode, encode_all};
pub use shared::Shared;

/// Makes, from the list of kinds, each family's module (`proxy/FILE.rs`,
/// which exports its proxies, their guards, its kind markers in `marker`
/// and its blocking aliases in `blocking`) and [`kinds`].
macro_rules! proxies {
    ($($(#[$family_doc:meta])* $file:ident: $Family:ident($Request:ident) {$($kinds:tt)*},)+) => {
        $(
            pub(crate) mod $file;
            pub use $file::*;
        )+

        /// The kind markers: the `K` of a [`Proxy<K, M>`](Proxy), one per
        /// object kind, each named after its proxy. They are never made; a
        /// proxy's type names one to say which objects it sees and what its
        /// values are.
        pub mod kinds {
            $(pub use super::$file::marker::*;)+
            pub use super::custom::marker::Custom;
        }
    };
}

manager_core::for_each_kind!(proxies);

//! [`Proxy`]: the one handle type behind every typed proxy, and [`Kind`],
//! the trait of the markers that say which objects a proxy sees.
//!
//! A proxy is a `Proxy<K, M>`: an [`ObjectRef`] (the connection, and which
//! object), with a kind marker `K` (one of [`kinds`](super::kinds)) and a
//! [`Mode`] `M` in its type. What every proxy has is written here once: its
//! name, id and kind, [`Proxy::with_timeout`], [`Proxy::share`], `Clone`
//! and `Debug`, and being made from an attached [`Shared`] token. Each
//! kind's file adds the rest: its marker, the alias users write
//! (`pub type Event<M = Async> = Proxy<kinds::Event, M>`, with the kind's
//! docs) and its methods (`impl<M: Mode> Proxy<kinds::Event, M> { .. }`).
//!
//! # Adding a kind
//!
//! A new kind's proxy is its file in `proxy/`, named as its family in the
//! list of kinds ([`manager_core::for_each_kind`]): its marker
//! (`kind_markers! { Event => Event; }`, which writes the [`Kind`] impl),
//! its alias with the kind's docs, its methods, its constructor on
//! [`Client`](crate::Client) (`Client::event`, in an
//! `impl<M: Mode> Client<M>` of that file), and its blocking alias in a
//! `blocking` module. `proxy/mod.rs` makes the module, its re-exports and
//! its markers' place in [`kinds`](super::kinds) from the list, and
//! `blocking.rs` re-exports the blocking aliases.

use std::marker::PhantomData;
use std::time::Duration;

use manager_core::{ObjectId, ObjectKind, ObjectName};

use super::object::ObjectRef;
use super::shared::Shared;
use crate::mode::{Async, Mode};

/// A handle on one shared object of the kind `K`, whose calls run in mode
/// `M`; cheap to clone (clones share the client's connection).
///
/// Users name it by its kind's alias: [`Queue<T>`](super::Queue) is
/// `Proxy<kinds::Queue<T>, Async>`, [`blocking::Queue<T>`](crate::blocking::Queue)
/// is `Proxy<kinds::Queue<T>, Blocking>`. Its methods `name`, `id`,
/// `kind`, `object`, `with_timeout` and `share` are those of every proxy;
/// the others belong to one kind each, and each kind's alias page lists
/// its own.
pub struct Proxy<K, M: Mode = Async> {
    pub(super) object: ObjectRef<M>,
    kind: PhantomData<fn() -> K>,
}

/// A proxy's kind marker: a type that is never made, only named in a
/// [`Proxy`]'s type, saying which objects that proxy sees (and, for typed
/// kinds, the types of their values). Sealed: the markers are those of
/// [`kinds`](super::kinds).
pub trait Kind: sealed::Sealed {
    /// Whether an object of `kind` can be seen through a proxy of this kind.
    fn accepts(kind: &ObjectKind) -> bool;
}

pub(crate) mod sealed {
    /// Keeps [`Kind`](super::Kind) to this crate's markers.
    pub trait Sealed {}
}

/// Defines the `marker` module of a kind's file: for each `$Marker` (with
/// the kind's value types as parameters, if it has any) a marker that is
/// never made, with the docs given, that sees the objects of
/// `ObjectKind::$kind`.
macro_rules! kind_markers {
    ($($(#[$doc:meta])* $Marker:ident $(<$($T:ident),+>)? => $kind:ident;)+) => {
        pub(super) mod marker {
            //! The kind markers of this file's proxies.

            use manager_core::ObjectKind;

            use crate::proxy::handle::{Kind, sealed};

            $(
                $(#[$doc])*
                pub struct $Marker $(<$($T),+>)? {
                    _never: std::convert::Infallible,
                    $(_types: std::marker::PhantomData<fn() -> ($($T,)+)>,)?
                }

                impl $(<$($T),+>)? std::fmt::Debug for $Marker $(<$($T),+>)? {
                    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        match self._never {}
                    }
                }

                impl $(<$($T),+>)? sealed::Sealed for $Marker $(<$($T),+>)? {}

                impl $(<$($T),+>)? Kind for $Marker $(<$($T),+>)? {
                    fn accepts(kind: &ObjectKind) -> bool {
                        *kind == ObjectKind::$kind
                    }
                }
            )+
        }
    };
}

impl<K, M: Mode> Proxy<K, M> {
    /// The proxy of kind `K` on `object`, which the caller has checked is
    /// of that kind (the manager did, when it created or found it).
    pub(crate) fn new(object: ObjectRef<M>) -> Self {
        Proxy {
            object,
            kind: PhantomData,
        }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.object.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.object.id()
    }

    /// The object's kind.
    pub fn kind(&self) -> &ObjectKind {
        self.object.kind()
    }

    /// The untyped handle underneath.
    pub fn object(&self) -> &ObjectRef<M> {
        &self.object
    }

    /// A handle on the same object whose calls time out after `timeout`.
    /// A call that waits in the manager (a queue's `get`, a lock's
    /// `acquire`, an event's `wait`) waits at most that long; the kind's
    /// docs say what it answers then.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.object.with_timeout(timeout))
    }

    /// A token for this object that can be sent to another process and
    /// attached there with [`Client::attach`](crate::Client::attach) (see
    /// [`Shared`]). It names the async proxy type, whatever this one's mode.
    pub fn share(&self) -> Shared<Proxy<K>> {
        Shared::new(&self.object)
    }
}

impl<K, M: Mode> Clone for Proxy<K, M> {
    fn clone(&self) -> Self {
        Self::new(self.object.clone())
    }
}

impl<K, M: Mode> std::fmt::Debug for Proxy<K, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("object", &self.object)
            .finish()
    }
}

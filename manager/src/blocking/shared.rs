//! Sharing blocking proxies: `share()` on each one, and
//! [`Client::attach`]. The token is the async proxy's [`Shared`], so a
//! token made by a blocking process attaches in an async one and the other
//! way round; [`crate::proxy::shared`] says what a token holds and what
//! attaching checks.

use manager_core::custom::CustomType;

use super::{
    Array, Barrier, BoundedSemaphore, Client, Condition, Custom, Dict, Event, JoinableQueue, List,
    Lock, Namespace, Queue, RLock, Semaphore, Set, Value,
};
use crate::Error;
use crate::proxy::{self, ObjectRef, Proxy, Shared};

/// A blocking proxy type: the blocking twin of the async proxy
/// [`Self::Async`], shared as the same [`Shared`] token. Implemented by
/// every proxy of [`crate::blocking`]; it cannot be implemented outside
/// this crate.
pub trait BlockingProxy: Sized + sealed::FromObject {
    /// The async proxy this one wraps.
    type Async: Proxy;

    /// The async proxy underneath.
    fn as_async(&self) -> &Self::Async;

    /// A token for the object this proxy refers to, to send to another
    /// process and [attach](Client::attach) there.
    fn share(&self) -> Shared<Self::Async> {
        self.as_async().share()
    }
}

mod sealed {
    use super::{Client, ObjectRef};

    /// Builds a blocking proxy on an object the registry has vouched for;
    /// kept out of reach so that users cannot forge one.
    pub trait FromObject {
        /// The proxy of `object`, driven by `client`'s runtime.
        fn from_object(object: ObjectRef, client: &Client) -> Self;
    }
}

/// Implements [`BlockingProxy`] for blocking proxy types, and adds the
/// inherent `share` that spares users an import of the trait.
macro_rules! blocking_proxies {
    ($($Proxy:ident $(<$($T:ident),+>)? $(where $B:ident: $Bound:path)?;)*) => {$(
        impl $(<$($T),+>)? sealed::FromObject for $Proxy $(<$($T),+>)?
        $(where $B: $Bound)?
        {
            fn from_object(object: ObjectRef, client: &Client) -> Self {
                let inner = <proxy::$Proxy $(<$($T),+>)? as proxy::shared::sealed::FromObject>
                    ::from_object(object);
                Self::new(inner, client.runtime.clone())
            }
        }

        impl $(<$($T),+>)? BlockingProxy for $Proxy $(<$($T),+>)?
        $(where $B: $Bound)?
        {
            type Async = proxy::$Proxy $(<$($T),+>)?;

            fn as_async(&self) -> &Self::Async {
                Self::as_async(self)
            }
        }

        impl $(<$($T),+>)? $Proxy $(<$($T),+>)?
        $(where $B: $Bound)?
        {
            /// A token for this object, to send to another process and
            /// attach there with [`Client::attach`] or
            /// [`crate::Client::attach`] (see [`Shared`]).
            pub fn share(&self) -> Shared<proxy::$Proxy $(<$($T),+>)?> {
                BlockingProxy::share(self)
            }
        }
    )*};
}

blocking_proxies! {
    Namespace;
    List<T>;
    Dict<K, V>;
    Set<T>;
    Value<T>;
    Array<T>;
    Queue<T>;
    JoinableQueue<T>;
    Lock;
    RLock;
    Semaphore;
    BoundedSemaphore;
    Event;
    Condition;
    Barrier;
    Custom<T> where T: CustomType;
}

impl Client {
    /// A blocking proxy, on this client's connection, of the object
    /// `shared` refers to; `shared` may come from any process connected to
    /// the same manager, blocking or async. A `Shared<proxy::Queue<T>>`
    /// gives a [`Queue<T>`], and so on.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = manager::Manager::start()?;
    /// let lock = manager.connect()?.lock("io")?;
    /// let token = lock.share();
    /// let same = manager.connect()?.attach(&token)?; // a blocking::Lock
    /// assert_eq!(same.id(), lock.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`crate::Client::attach`].
    pub fn attach<P: Proxy>(&self, shared: &Shared<P>) -> Result<P::Blocking, Error> {
        let object = self.runtime.run(self.inner.attach_object(shared))?;
        Ok(<P::Blocking as sealed::FromObject>::from_object(
            object, self,
        ))
    }
}

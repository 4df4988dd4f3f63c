//! [`Shared`]: a proxy turned into a value that travels to another process
//! (as a worker's or a pool task's argument, or inside a dict, a list, a
//! queue item or a namespace attribute), and [`Client::attach`], which turns
//! it back into a proxy there. Python 3.6+ does this by pickling a proxy.
//!
//! Every proxy has [`share`](super::Proxy::share). A token names the
//! async proxy type (`Shared<Queue<u64>>`), whatever the [`Mode`] of the
//! proxy that made it, and attaches as a proxy of the attaching client's mode: a token made by
//! a blocking proxy attaches as an async one and the other way round.
//!
//! # What a token holds
//!
//! The object's id, name and kind, the identity of the manager that holds
//! it (a random number the manager chose when it started), and, in its
//! type, which proxy it is for.
//! No key and no connection: a token is useless to a process that cannot
//! connect to the manager with its authkey, and attaching uses the
//! attaching process's own connection. Its type tag names the proxy type,
//! so reading a `Shared<Queue<u64>>` as a `Shared<List<u64>>` fails with
//! [`ManagerError::WrongType`] like any other value of the wrong type.
//!
//! # What attaching checks
//!
//! The token must come from the manager the attaching client is connected
//! to ([`Error::OtherManager`] otherwise): two managers number their
//! objects alike, so without this check a token of one would attach to
//! whatever the other holds under the same id and name.
//!
//! It must be attached as the proxy type it was made for: a token holds
//! that type's name, so one that reached its reader by a way that checks
//! no type tag (the application's own bytes, a struct field whose type
//! changed) and is read as another proxy type (a `Shared<Queue<u64>>` as
//! a `Shared<Queue<String>>`, a `Lock`'s as an `RLock`'s) is refused with
//! [`ManagerError::WrongType`], naming both, before anything is sent.
//!
//! [`Client::attach`] then looks the name up once. The object must be the very
//! object the token was made from ([`ManagerError::ObjectGone`] if it was
//! removed, even if the name holds another object since, of whatever
//! kind): like a Python proxy, a token refers to one object, not to a
//! name. It must also be of the token's kind
//! ([`ManagerError::KindMismatch`] otherwise, which only a token not made
//! by `share` can meet).
//!
//! # Examples
//!
//! One process shares a queue by storing its token in a dict; another finds
//! the token there and attaches:
//!
//! ```
//! use manager::Manager;
//! use manager::proxy::{Queue, Shared};
//!
//! let manager = Manager::start()?;
//! let producer = manager.connect()?;
//! let jobs = producer.queue::<u64>("jobs", None)?;
//! let directory = producer.dict::<String, Shared<Queue<u64>>>("directory")?;
//! directory.insert(&"jobs".to_owned(), &jobs.share())?;
//!
//! // Elsewhere: another connection, typically another process.
//! let consumer = manager.connect()?;
//! let directory = consumer.dict::<String, Shared<Queue<u64>>>("directory")?;
//! let token = directory.get(&"jobs".to_owned())?.expect("it was stored");
//! let jobs_there = consumer.attach(&token)?; // a blocking::Queue<u64>
//!
//! jobs.put(&7)?;
//! assert_eq!(jobs_there.get()?, 7);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::future::Future;
use std::marker::PhantomData;

use manager_core::{ManagerError, ObjectId, ObjectKind, ObjectName, TypeTag};
use serde::{Deserialize, Serialize};

use super::handle::{Kind, Proxy};
use super::object::ObjectRef;
use crate::mode::Mode;
use crate::{Client, Error};

/// A reference to one shared object that can be sent to another process
/// and attached there with [`Client::attach`] as a proxy of type `P` (in
/// the attaching client's mode).
///
/// Made by a proxy's `share()`. It holds the object's id, name and kind;
/// see the [module docs](self) for what it does not hold and what attaching
/// checks.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Shared<P> {
    manager: u64,
    id: ObjectId,
    name: ObjectName,
    kind: ObjectKind,
    /// The proxy type it was made for (`P`), checked when it is attached:
    /// a token that reached a reader of another `P` by a way that checks
    /// no type tag (bytes of the application's own) is still refused.
    proxy_type: TypeTag,
    #[serde(skip)]
    proxy: PhantomData<fn() -> P>,
}

impl<P> Shared<P> {
    pub(super) fn new<M: Mode>(object: &ObjectRef<M>) -> Self {
        Shared {
            manager: object.client().manager_id(),
            id: object.id(),
            name: object.name().clone(),
            kind: object.kind().clone(),
            proxy_type: TypeTag::of::<P>(),
            proxy: PhantomData,
        }
    }

    /// The identity of the manager that holds the object (see
    /// [`Client::manager_id`]).
    pub fn manager_id(&self) -> u64 {
        self.manager
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        &self.name
    }

    /// The object's kind.
    pub fn kind(&self) -> &ObjectKind {
        &self.kind
    }
}

impl<P> Clone for Shared<P> {
    fn clone(&self) -> Self {
        Shared {
            manager: self.manager,
            id: self.id,
            name: self.name.clone(),
            kind: self.kind.clone(),
            proxy_type: self.proxy_type.clone(),
            proxy: PhantomData,
        }
    }
}

impl<P> std::fmt::Debug for Shared<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("manager", &self.manager)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("proxy", &self.proxy_type.as_str())
            .finish()
    }
}

impl<P> PartialEq for Shared<P> {
    fn eq(&self, other: &Self) -> bool {
        self.manager == other.manager
            && self.id == other.id
            && self.name == other.name
            && self.kind == other.kind
    }
}

impl<P> Eq for Shared<P> {}

impl<P> std::hash::Hash for Shared<P> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.manager.hash(state);
        self.id.hash(state);
        self.name.hash(state);
        self.kind.hash(state);
    }
}

impl<M: Mode> Client<M> {
    /// A proxy, on this client's connection, of the object `shared` refers
    /// to; `shared` may come from any process connected to the same
    /// manager.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = manager::Manager::start()?;
    /// let one = manager.connect_async().await?;
    /// let hits = one.list::<u32>("hits").await?;
    /// let token = hits.share();
    ///
    /// let other = manager.connect_async().await?;
    /// let same = other.attach(&token).await?; // a proxy::List<u32>
    /// same.append(&1).await?;
    /// assert_eq!(hits.len().await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OtherManager`] if the token was made on another manager
    /// than this client's; [`ManagerError::WrongType`] (as [`Error::Manager`])
    /// if it was made for another proxy type than the one asked for (see
    /// the [module docs](self)); [`ManagerError::ObjectGone`] if the object
    /// was removed, whether or not its name now holds another object (of
    /// any kind); [`ManagerError::KindMismatch`] if the object is not of the
    /// token's kind (a token not made by `share`); and the errors of every
    /// call (see [`Client::call`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads the registry.
    pub fn attach<K: Kind>(
        &self,
        shared: &Shared<Proxy<K>>,
    ) -> M::Answer<impl Future<Output = Result<Proxy<K, M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.attach_object(shared).await?)) })
    }

    async fn attach_object<K: Kind>(
        &self,
        shared: &Shared<Proxy<K>>,
    ) -> Result<ObjectRef<M>, Error> {
        if shared.manager != self.manager_id() {
            return Err(Error::OtherManager {
                name: shared.name.to_string(),
                address: self.address().clone(),
            });
        }
        // A token made for another proxy type (another kind, item type or
        // custom type) that came here without its value's type tag.
        let requested = TypeTag::of::<Proxy<K>>();
        if shared.proxy_type != requested {
            return Err(Error::Manager(ManagerError::WrongType {
                what: format!("the token of {} `{}`", shared.kind, shared.name),
                stored: shared.proxy_type.as_str().to_owned(),
                requested: requested.as_str().to_owned(),
            }));
        }
        let gone = || Error::Manager(ManagerError::ObjectGone { id: shared.id });
        let info = match self.lookup_in(shared.name.as_str()).await {
            Ok(info) => info,
            Err(Error::Manager(ManagerError::NoSuchObject { .. })) => return Err(gone()),
            Err(e) => return Err(e),
        };
        // Another object under the name, of whatever kind, means the
        // token's object is gone: a token refers to one object.
        if info.id != shared.id {
            return Err(gone());
        }
        // The same object of another kind: a token that was not made by
        // `share` for this proxy type.
        if info.kind != shared.kind || !K::accepts(&info.kind) {
            return Err(Error::Manager(ManagerError::KindMismatch {
                name: info.name.to_string(),
                existing: info.kind,
                requested: shared.kind.clone(),
            }));
        }
        Ok(ObjectRef::new(self.clone(), info))
    }
}

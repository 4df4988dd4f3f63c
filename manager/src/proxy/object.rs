//! [`ObjectRef`]: what every typed proxy holds (the connection, and which
//! object), and the helpers that turn a [`Reply`] into a typed result.

use std::borrow::Borrow;
use std::time::Duration;

use manager_core::reply::{ObjectInfo, Reply, ReplyShape};
use manager_core::request::{Call, ObjectRequest, Owner, Request, Wait};
use manager_core::{Encoded, ObjectId, ObjectKind, ObjectName};
use manager_ipc::connection::Takes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// How much longer than its own timeout a handle waits for the answer to an
/// operation that the manager ended at that timeout.
pub const WAIT_GRACE: Duration = Duration::from_secs(2);

/// A handle on one object: the client connection and the object's id, name
/// and kind. Every typed proxy wraps one.
#[derive(Debug, Clone)]
pub struct ObjectRef<M: Mode = Async> {
    client: Client<M>,
    id: ObjectId,
    name: ObjectName,
    kind: ObjectKind,
}

impl<M: Mode> ObjectRef<M> {
    pub(crate) fn new(client: Client<M>, info: ObjectInfo) -> Self {
        ObjectRef {
            client,
            id: info.id,
            name: info.name,
            kind: info.kind,
        }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        &self.name
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// The object's kind.
    pub fn kind(&self) -> &ObjectKind {
        &self.kind
    }

    /// The connection this handle uses.
    pub fn client(&self) -> &Client<M> {
        &self.client
    }

    /// How this handle's calls run.
    pub fn mode(&self) -> &M {
        self.client.mode()
    }

    /// The same object with calls that time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        ObjectRef {
            client: self.client.with_timeout(timeout),
            ..self.clone()
        }
    }

    /// The object as error messages name it, for example "queue `jobs`".
    pub fn what(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }

    /// Sends one operation to the object and waits for its reply.
    ///
    /// On a handle with a timeout, an operation that waits on the manager's
    /// side (a queue `get`, a lock `acquire`) waits there no longer than the
    /// timeout, and the call itself gets [`WAIT_GRACE`] more for the answer
    /// to arrive: the manager, not the client's clock, ends the wait. Should
    /// the call still give up first (the request sat in a busy manager), or
    /// its future be dropped, what a late reply took is given back as soon
    /// as it arrives: a lock or semaphore unit is released, a condition's
    /// lock taken back by a `wait` is released completely, and a queue item
    /// is put back at the front (see
    /// [`ObjectRequest::undo_for`](manager_core::request::ObjectRequest::undo_for)).
    ///
    /// # Errors
    ///
    /// As [`Client::call`].
    pub fn call(&self, mut op: ObjectRequest) -> impl Future<Output = Result<Reply, Error>> + '_ {
        let deadline = self.bound_wait(op.wait_mut());
        // What a late reply takes after this call gave up is given back.
        let takes = op.may_take().then(|| Request::Object {
            target: self.id,
            op: op.clone(),
        });
        let request = Request::Object {
            target: self.id,
            op,
        };
        self.client.call_within(request, deadline, takes)
    }

    /// Bounds `wait`, the wait of a request about to be sent (if it is one
    /// that waits), by this handle's timeout, and returns how long the
    /// call itself may take: the timeout and [`WAIT_GRACE`] for a request
    /// that waits, the timeout for another (see [`ObjectRef::call`]).
    pub(crate) fn bound_wait(&self, wait: Option<&mut Wait>) -> Option<Duration> {
        match (self.client.timeout(), wait) {
            (Some(limit), Some(wait)) => {
                *wait = wait.at_most(limit);
                Some(limit.saturating_add(WAIT_GRACE))
            }
            (limit, _) => limit,
        }
    }

    /// Sends one request of a custom type, already encoded, whose wait (if
    /// `parks`) was bounded by [`ObjectRef::bound_wait`] and whose call
    /// may take `deadline`. A request that parks is taken back from the
    /// object if the call gives up first, and what a late reply took is
    /// given back as `takes` says, as [`ObjectRef::call`] does for a
    /// built-in wait.
    pub(crate) fn call_custom(
        &self,
        request: Encoded,
        parks: bool,
        deadline: Option<Duration>,
        takes: Option<Takes>,
    ) -> impl Future<Output = Result<Reply, Error>> + '_ {
        let request = Request::Object {
            target: self.id,
            op: ObjectRequest::Custom(request),
        };
        let mut call = self.client.call_within(request, deadline, None);
        if parks {
            call = call.parking_in(self.id);
        }
        if let Some(takes) = takes {
            call = call.giving_back(takes);
        }
        call
    }

    /// Sends one operation without waiting for (or keeping) its reply; for
    /// releases from a guard's `drop`, which cannot wait.
    ///
    /// # Errors
    ///
    /// [`Error::ManagerGone`] if the connection is closed.
    pub fn send_detached<R: ReplyShape>(&self, call: Call<R>) -> Result<(), Error> {
        self.client.send_detached(Request::Object {
            target: self.id,
            op: call.into_request(),
        })
    }

    /// The error for a reply that has the right shape but cannot be right
    /// (a manager that does not keep its protocol).
    pub fn protocol_error(&self, reason: &str) -> Error {
        Error::Protocol {
            address: self.client.address().clone(),
            reason: format!("{reason} (from {})", self.what()),
        }
    }

    /// Sends one call and takes its reply as the call's reply type `R`
    /// (see [`Call`]): the one place a proxy's reply is checked.
    ///
    /// # Errors
    ///
    /// As [`ObjectRef::call`], or [`Error::Protocol`] if the manager
    /// answered another shape (it does not keep the protocol).
    pub fn ask<R: ReplyShape>(&self, call: Call<R>) -> impl Future<Output = Result<R, Error>> + '_ {
        // The request is encoded now, so the future holds its frame, not
        // the request.
        let reply = self.call(call.into_request());
        async move { self.client.connection().shaped(reply.await?) }
    }

    /// Expects `Done`.
    ///
    /// # Errors
    ///
    /// As [`ObjectRef::ask`].
    pub async fn call_done(&self, call: Call<()>) -> Result<(), Error> {
        self.ask(call).await
    }

    /// Expects `Count`, as a `usize` (saturating).
    ///
    /// # Errors
    ///
    /// As [`ObjectRef::ask`].
    pub async fn call_len(&self, call: Call<u64>) -> Result<usize, Error> {
        let n = self.ask(call).await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Expects `Value` and decodes it as a `T`.
    ///
    /// # Errors
    ///
    /// As [`ObjectRef::ask`], and `WrongType` if it holds another type.
    pub async fn call_value<T: DeserializeOwned>(&self, call: Call<Encoded>) -> Result<T, Error> {
        let value = self.ask(call).await?;
        self.decode(&value)
    }

    /// Expects `MaybeValue` and decodes it as a `T`.
    ///
    /// # Errors
    ///
    /// As [`ObjectRef::call_value`].
    pub async fn call_maybe<T: DeserializeOwned>(
        &self,
        call: Call<Option<Encoded>>,
    ) -> Result<Option<T>, Error> {
        let value = self.ask(call).await?;
        value.map(|v| self.decode(&v)).transpose()
    }

    /// Expects `Values` and decodes each as a `T`.
    ///
    /// # Errors
    ///
    /// As [`ObjectRef::call_value`].
    pub async fn call_values<T: DeserializeOwned>(
        &self,
        call: Call<Vec<Encoded>>,
    ) -> Result<Vec<T>, Error> {
        let values = self.ask(call).await?;
        values.iter().map(|v| self.decode(v)).collect()
    }

    /// Decodes one value of this object as a `T`.
    ///
    /// # Errors
    ///
    /// `WrongType` (as [`Error::Manager`]) if it holds another type.
    pub fn decode<T: DeserializeOwned>(&self, value: &Encoded) -> Result<T, Error> {
        // Built from references: nothing is formatted unless it fails.
        Ok(value.decode(format_args!("a value of {} `{}`", self.kind, self.name))?)
    }
}

/// Encodes one value for a request.
///
/// # Errors
///
/// [`Error::EncodeValue`] if its `Serialize` fails.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Encoded, Error> {
    Encoded::encode(value).map_err(Error::EncodeValue)
}

/// Encodes `key`, borrowed from an owned `K` (a `&str` of a `String`), with
/// the bytes and tag the owned key has ([`Encoded::encode_borrowed`]), so
/// it finds the entry the owned key made.
///
/// # Errors
///
/// As [`encode`].
pub(super) fn encode_key<K, Q>(key: &Q) -> Result<Encoded, Error>
where
    K: Borrow<Q> + ?Sized,
    Q: Serialize + ?Sized,
{
    Encoded::encode_borrowed::<K, Q>(key).map_err(Error::EncodeValue)
}

/// Encodes many values for one bulk request.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_all<'a, T: Serialize + 'a>(
    values: impl IntoIterator<Item = &'a T>,
) -> Result<Vec<Encoded>, Error> {
    values.into_iter().map(|v| encode(v)).collect()
}

/// The [`Owner`] of the calling thread or task: the tokio task if there is
/// one, else the thread. Locks, semaphores and conditions are held by
/// owners, so two threads (or tasks) of one process do not share an `RLock`.
pub fn current_owner() -> Owner {
    use std::hash::{Hash, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};

    thread_local! {
        static THREAD_OWNER: u64 = {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            NEXT.fetch_add(1, Ordering::Relaxed)
        };
    }
    match tokio::task::try_id() {
        Some(task) => {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            task.hash(&mut hasher);
            // The top bit keeps task owners apart from thread owners.
            Owner(hasher.finish() | 1 << 63)
        }
        None => Owner(THREAD_OWNER.with(|n| *n)),
    }
}

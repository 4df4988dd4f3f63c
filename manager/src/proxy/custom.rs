//! [`Custom`]: the async proxy of an object of an application's own type,
//! and [`Client::custom`], which creates or finds one.
//!
//! The type is described by a [`CustomType`] (its name and its `Init`,
//! `Request` and `Reply` types); the manager must have been started with
//! its behaviour registered ([`ManagerBuilder::register`](crate::ManagerBuilder::register)
//! or [`Entries::register`](crate::launcher::Entries::register) for a
//! [`ManagerProcess`](crate::ManagerProcess)). [`Custom::call`] sends one
//! request and returns the typed reply. Applications usually wrap a
//! `Custom<T>` in a struct of their own with one method per operation.

use std::future::Future;

use manager_core::custom::CustomType;
use manager_core::reply::Reply;
use manager_core::{Encoded, ObjectKind, ObjectSpec};
use manager_ipc::connection::Takes;

use super::handle::Proxy;
use super::object::{ObjectRef, encode};
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on one object of the custom type `T`.
///
/// It has the methods every [`Proxy`] has as well: [`name`](Proxy::name),
/// [`id`](Proxy::id), [`kind`](Proxy::kind),
/// [`with_timeout`](Proxy::with_timeout) and [`share`](Proxy::share).
///
/// # Examples
///
/// ```
/// use manager::{CallInfo, CustomObject, CustomType, Manager};
/// use serde::{Deserialize, Serialize};
///
/// /// Counts named events.
/// #[derive(Default)]
/// struct Tally(std::collections::BTreeMap<String, u64>);
///
/// #[derive(Serialize, Deserialize)]
/// enum TallyRequest { Count(String), Total(String) }
///
/// impl CustomType for Tally {
///     const TYPE_NAME: &'static str = "tally";
///     type Init = ();
///     type Request = TallyRequest;
///     type Reply = u64;
/// }
///
/// impl CustomObject for Tally {
///     fn create((): ()) -> Result<Self, String> {
///         Ok(Tally::default())
///     }
///
///     fn handle(&mut self, request: TallyRequest, _call: &CallInfo<'_>) -> u64 {
///         match request {
///             TallyRequest::Count(event) => {
///                 let n = self.0.entry(event).or_default();
///                 *n += 1;
///                 *n
///             }
///             TallyRequest::Total(event) => self.0.get(&event).copied().unwrap_or(0),
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = Manager::builder().register::<Tally>().start()?;
/// let client = manager.connect_async().await?;
/// let tally = client.custom::<Tally>("clicks", &()).await?;
/// tally.call(TallyRequest::Count("home".into())).await?;
/// assert_eq!(tally.call(TallyRequest::Count("home".into())).await?, 2);
/// assert_eq!(tally.call(TallyRequest::Total("about".into())).await?, 0);
/// # Ok(())
/// # }
/// ```
pub type Custom<T, M = Async> = Proxy<marker::Custom<T>, M>;

pub(super) mod marker {
    //! The kind marker of this file's proxy.

    use std::marker::PhantomData;

    use manager_core::ObjectKind;
    use manager_core::custom::CustomType;

    use crate::proxy::handle::{Kind, sealed};

    /// The kind of a [`Custom<T>`](super::Custom) proxy: it sees the
    /// objects of the custom type `T`.
    pub struct Custom<T> {
        _never: std::convert::Infallible,
        _type: PhantomData<fn() -> T>,
    }

    impl<T> std::fmt::Debug for Custom<T> {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self._never {}
        }
    }

    impl<T: CustomType> sealed::Sealed for Custom<T> {}

    impl<T: CustomType> Kind for Custom<T> {
        fn accepts(kind: &ObjectKind) -> bool {
            T::type_name().is_ok_and(|name| *kind == ObjectKind::Custom(name))
        }
    }
}

impl<T: CustomType, M: Mode> Custom<T, M> {
    /// Sends `request` to the object and returns its reply. The object
    /// carries out one request at a time, each whole.
    ///
    /// A request that waits in the manager ([`CustomType::wait_mut`] finds
    /// its [`Wait`](manager_core::request::Wait)) waits there, on a handle
    /// with a timeout, no longer than that timeout, and the call gets
    /// [`WAIT_GRACE`](super::WAIT_GRACE) more for the answer to come, as a
    /// built-in wait does (see [`ObjectRef::call`]). If the call gives up
    /// first (or its future is dropped), the request is taken back from the
    /// object ([`ObjectRequest::Cancel`](manager_core::request::ObjectRequest::Cancel)),
    /// and if its reply comes anyway and it handed something over
    /// ([`CustomType::may_take`]), the request [`CustomType::undo_for`]
    /// makes from it is sent to give it back.
    ///
    /// # Errors
    ///
    /// [`Error::EncodeValue`] if the request cannot be encoded;
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType) if the
    /// manager's type of that name has other request or reply types;
    /// [`ManagerError::Panicked`](crate::ManagerError::Panicked) if the
    /// object's code panicked (now or before); and the errors of every call
    /// (see [`Client::call`]).
    pub fn call(
        &self,
        request: T::Request,
    ) -> M::Answer<impl Future<Output = Result<T::Reply, Error>>> {
        self.object.mode().answer(async move {
            let mut request = request;
            let wait = T::wait_mut(&mut request);
            let parks = wait.is_some();
            let deadline = self.object.bound_wait(wait);
            let may_take = T::may_take(&request);
            let request = encode(&request)?;
            let takes = may_take.then(|| Takes::Custom {
                target: self.object.id(),
                request: request.clone(),
                undo: undo_for::<T>,
            });
            let reply = self
                .object
                .call_custom(request, parks, deadline, takes)
                .await?;
            let connection = self.object.client().connection();
            let value: Encoded = connection.shaped(reply)?;
            self.object.decode(&value)
        })
    }
}

/// The encoded request that gives back what `reply` to `request` (of the
/// custom type `T`) handed over, if anything ([`CustomType::undo_for`]):
/// for a reply that came after its call gave up. Runs on the connection's
/// reader task, so a panic in the type's code gives nothing back rather
/// than ending the task.
fn undo_for<T: CustomType>(request: &Encoded, reply: &Reply) -> Option<Encoded> {
    let Reply::Value(value) = reply else {
        return None;
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let request = request.decode::<T::Request>("a custom request").ok()?;
        let reply = value.decode::<T::Reply>("a custom reply").ok()?;
        Encoded::encode(&T::undo_for(&request, &reply)?).ok()
    }))
    .ok()
    .flatten()
}

impl<M: Mode> Client<M> {
    /// Finds the object `name` of the custom type `T`, or creates it from
    /// `init` (used only when it is created).
    ///
    /// # Errors
    ///
    /// [`ManagerError::UnknownType`](crate::ManagerError::UnknownType) if
    /// the manager has no type `T::TYPE_NAME`;
    /// [`ManagerError::CreateFailed`](crate::ManagerError::CreateFailed) if
    /// the type refuses `init`;
    /// [`ManagerError::KindMismatch`](crate::ManagerError::KindMismatch) if
    /// `name` is an object of another kind; and as [`Client::object`].
    pub fn custom<T: CustomType>(
        &self,
        name: &str,
        init: &T::Init,
    ) -> M::Answer<impl Future<Output = Result<Custom<T, M>, Error>>> {
        self.mode().answer(async move {
            let spec = ObjectSpec::Custom {
                type_name: T::type_name()?,
                init: encode(init)?,
            };
            Ok(Proxy::new(self.object_in(name, spec).await?))
        })
    }

    /// Finds the existing object `name` of the custom type `T`.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NoSuchObject`](crate::ManagerError::NoSuchObject) if
    /// there is none,
    /// [`ManagerError::KindMismatch`](crate::ManagerError::KindMismatch) if
    /// it is of another kind, and the errors of every call.
    pub fn lookup_custom<T: CustomType>(
        &self,
        name: &str,
    ) -> M::Answer<impl Future<Output = Result<Custom<T, M>, Error>>> {
        self.mode().answer(async move {
            let info = self.lookup_in(name).await?;
            let expected = ObjectKind::Custom(T::type_name()?);
            if info.kind != expected {
                return Err(Error::Manager(crate::ManagerError::KindMismatch {
                    name: info.name.to_string(),
                    existing: info.kind,
                    requested: expected,
                }));
            }
            Ok(Proxy::new(ObjectRef::new(self.clone(), info)))
        })
    }
}

//! [`RegistryActor`]: maps object names to the actors that own them.
//!
//! The registry creates an object's actor on the first
//! [`RegistryRequest::CreateOrGet`] for its name and hands out its
//! [`ObjectHandle`]; later requests for that name get the same object. It also
//! looks objects up, removes them (their actor stops and their id is never
//! reused) and lists them with their counters.
//!
//! For an inspection it gathers every object's counters and asks each actor
//! for its [`ObjectDetail`](manager_core::inspect::ObjectDetail)
//! ([`InspectObjects`]), waiting for the answers no longer than a deadline,
//! so one busy object cannot stall the snapshot.
//!
//! # Inspections do not stall the manager
//!
//! Objects share the manager's few threads. Asking 100,000 objects at
//! once would wake them all together, and every other client would wait
//! for all of them to answer. So an inspection reads the registry and asks the
//! objects [`INSPECT_WINDOW`] at a time, and waits for their answers before
//! it reads the next ones; other requests (to the registry too) are served
//! in between. An object that exists for the whole inspection is in it;
//! one created or removed meanwhile may or may not be.
//!
//! Clients never talk to it directly: the server bridge sends it one
//! [`RegistryCall`] per registry request and keeps the handles it gets back,
//! so object requests go straight to the object's own mailbox.
//!
//! # Bad names
//!
//! Names arrive as the client sent them ([`WireName`](manager_core::WireName),
//! and a custom type's [`TypeName`](manager_core::TypeName) in its spec) and
//! are checked here, before anything else: a bad one is
//! [`ManagerError::InvalidName`] for that request alone.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::{
    Actor, AsyncContext, Context, Handler, Message, MessageResult, Recipient, ResponseFuture,
};
use manager_core::inspect::ObjectReport;
use manager_core::reply::{ObjectInfo, ObjectSummary, RegistryReply};
use manager_core::request::RegistryRequest;
use manager_core::{ManagerError, ObjectId, ObjectKind, ObjectName, ObjectSpec};

use crate::object::{ObjectHandle, ObjectStats, ReportObject, SharedStats, StopObject};
use crate::objects::{self, CustomTypes, SharedMemoryBudget};
use crate::threads::{ThreadIndex, Threads};

/// One registry request, as sent by the bridge.
#[derive(Debug)]
pub struct RegistryCall {
    /// What is asked.
    pub request: RegistryRequest,
    /// The thread of the connection that asks, if the bridge knows it: an
    /// object this request creates starts there, so a client's own objects
    /// cost its calls no hop between threads. Without it the object goes
    /// to the next thread in turn.
    pub from: Option<ThreadIndex>,
}

impl RegistryCall {
    /// `request`, from no thread in particular.
    pub fn new(request: RegistryRequest) -> Self {
        RegistryCall {
            request,
            from: None,
        }
    }

    /// This call, made by a connection on thread `at`.
    pub fn from_thread(mut self, at: ThreadIndex) -> Self {
        self.from = Some(at);
        self
    }
}

/// The registry's answer to a [`RegistryCall`]: the reply for the client and,
/// when the reply names an object, its handle for the bridge.
#[derive(Debug)]
pub struct RegistryOutcome {
    /// What goes back to the client.
    pub reply: Result<RegistryReply, ManagerError>,
    /// How to reach the object the reply names, if any.
    pub handle: Option<ObjectHandle>,
    /// The object a `Remove` removed, so the asking connection drops its
    /// handle at once.
    pub removed: Option<ObjectId>,
}

impl RegistryOutcome {
    /// The outcome of a request that failed: `error` for the client, no
    /// handle.
    fn failed(error: ManagerError) -> Self {
        RegistryOutcome {
            reply: Err(error),
            handle: None,
            removed: None,
        }
    }
}

impl Message for RegistryCall {
    type Result = RegistryOutcome;
}

/// Several registry requests of one connection, applied in order in one
/// turn of the registry: one hop between threads for all of them, where
/// each [`RegistryCall`] costs two. The bridge sends at most one read
/// batch of a connection at a time (`manager_ipc::limits::MAX_BATCH`, 64
/// requests), so other connections' calls go on between batches.
#[derive(Debug)]
pub struct RegistryCalls {
    /// What is asked, in order.
    pub requests: Vec<RegistryRequest>,
    /// The thread of the connection that asks (see [`RegistryCall::from`]).
    pub from: Option<ThreadIndex>,
}

impl Message for RegistryCalls {
    type Result = Vec<RegistryOutcome>;
}

/// Finds the handle of an object by id (for a connection that learned the id
/// elsewhere, for example from another process).
#[derive(Debug)]
pub struct ResolveId(pub ObjectId);

impl Message for ResolveId {
    type Result = Option<ObjectHandle>;
}

/// How long an inspection waits for the reports of one window of
/// [`INSPECT_WINDOW`] objects by default.
pub const INSPECT_TIMEOUT: Duration = Duration::from_millis(500);

/// How many objects an inspection asks for their reports at once.
pub const INSPECT_WINDOW: usize = 256;

/// Reports every object, sorted by name: its counters, and its actor's
/// [`ObjectDetail`](manager_core::inspect::ObjectDetail).
///
/// The registry reads its entries and asks the actors [`INSPECT_WINDOW`] at
/// a time, in name order (an object created or removed during the
/// inspection may or may not be in it), and waits for each window's reports at most `timeout` from when
/// it asked them. An actor that has not answered by then (its mailbox is
/// full of work) is reported with `detail: None`.
#[derive(Debug, Clone, Copy)]
pub struct InspectObjects {
    /// The longest wait for the reports of one window.
    pub timeout: Duration,
}

impl Default for InspectObjects {
    fn default() -> Self {
        InspectObjects {
            timeout: INSPECT_TIMEOUT,
        }
    }
}

impl Message for InspectObjects {
    type Result = Vec<ObjectReport>;
}

#[derive(Debug)]
struct Entry {
    handle: ObjectHandle,
    /// The thread its actor runs on.
    thread: ThreadIndex,
    stop: Recipient<StopObject>,
    stats: SharedStats,
}

/// The actor that owns the name → object map.
#[derive(Debug)]
pub struct RegistryActor {
    by_name: BTreeMap<ObjectName, Entry>,
    by_id: HashMap<ObjectId, ObjectName>,
    last_id: u64,
    custom: CustomTypes,
    /// Where new objects' actors run.
    threads: Threads,
    /// The most objects it holds at once.
    max_objects: usize,
    /// Creates refused for `max_objects` so far.
    refused_creates: u64,
    /// The bytes shared memory blocks may take.
    shared_memory: SharedMemoryBudget,
}

impl Default for RegistryActor {
    fn default() -> Self {
        RegistryActor {
            by_name: BTreeMap::new(),
            by_id: HashMap::new(),
            last_id: 0,
            custom: CustomTypes::default(),
            threads: Threads::current_only(),
            max_objects: usize::MAX,
            refused_creates: 0,
            shared_memory: SharedMemoryBudget::default(),
        }
    }
}

impl RegistryActor {
    /// An empty registry that makes the built-in kinds only.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry that also makes the custom types in `custom`.
    pub fn with_custom_types(custom: CustomTypes) -> Self {
        RegistryActor {
            custom,
            ..Self::default()
        }
    }

    /// Starts each new object's actor on the next of `threads` in turn
    /// (only the registry's own thread by default). The registry must be
    /// started on `threads`' thread 0.
    pub fn on_threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// Holds at most `max` objects at once (at least one): a create beyond
    /// that fails with [`ManagerError::LimitReached`]. Unlimited by default.
    pub fn with_max_objects(mut self, max: usize) -> Self {
        self.max_objects = max.max(1);
        self
    }

    /// Keeps its shared memory blocks within `budget` (unlimited by
    /// default).
    pub fn with_shared_memory(mut self, budget: SharedMemoryBudget) -> Self {
        self.shared_memory = budget;
        self
    }

    fn spawn_object(
        &mut self,
        name: &ObjectName,
        spec: ObjectSpec,
        from: Option<ThreadIndex>,
    ) -> Result<Entry, ManagerError> {
        if self.by_name.len() >= self.max_objects {
            // Logged at the 1st, 2nd, 4th, 8th... refusal: a client that
            // keeps creating must not flood the log.
            self.refused_creates += 1;
            if self.refused_creates.is_power_of_two() {
                tracing::warn!(
                    %name,
                    max = self.max_objects,
                    refused = self.refused_creates,
                    "object limit reached; create refused"
                );
            }
            return Err(ManagerError::LimitReached {
                what: "objects".to_owned(),
                max: u64::try_from(self.max_objects).unwrap_or(u64::MAX),
            });
        }
        let id = ObjectId(self.last_id + 1);
        let kind = spec.kind();
        let stats: SharedStats = Arc::new(ObjectStats::new());
        let thread = from
            .filter(|&at| self.threads.holds(at))
            .unwrap_or_else(|| self.threads.next_for_object());
        let (handle, stop) = objects::spawn(
            spec,
            &self.custom,
            objects::Placement {
                threads: &self.threads,
                at: thread,
                shared_memory: &self.shared_memory,
            },
            id,
            name.clone(),
            stats.clone(),
        )?;
        self.last_id = id.0;
        tracing::debug!(%id, %name, %kind, "object created");
        Ok(Entry {
            handle,
            thread,
            stop,
            stats,
        })
    }

    fn info(entry: &Entry, name: &ObjectName, created: bool) -> ObjectInfo {
        ObjectInfo {
            id: entry.handle.id,
            name: name.clone(),
            kind: entry.handle.kind.clone(),
            created,
        }
    }

    fn apply(&mut self, request: RegistryRequest, from: Option<ThreadIndex>) -> RegistryOutcome {
        match request {
            RegistryRequest::CreateOrGet { name, spec } => {
                match name.check().and_then(|name| spec.check().map(|()| name)) {
                    Ok(name) => self.create_or_get(name, spec, from),
                    Err(e) => RegistryOutcome::failed(e),
                }
            }
            RegistryRequest::Lookup { name } => match name.check() {
                Ok(name) => self.lookup(&name),
                Err(e) => RegistryOutcome::failed(e),
            },
            RegistryRequest::Remove { name } => match name.check() {
                Ok(name) => self.remove(&name),
                Err(e) => RegistryOutcome::failed(e),
            },
            RegistryRequest::List => RegistryOutcome {
                reply: Ok(RegistryReply::Objects(self.summaries())),
                handle: None,
                removed: None,
            },
            // A snapshot needs the bridge's connections too: the bridge
            // answers it, asking for the objects' part with
            // `InspectObjects`.
            RegistryRequest::Inspect => RegistryOutcome::failed(ManagerError::BadRequest(
                "an inspection is answered by the server bridge, not the registry alone".to_owned(),
            )),
        }
    }

    fn create_or_get(
        &mut self,
        name: ObjectName,
        spec: ObjectSpec,
        from: Option<ThreadIndex>,
    ) -> RegistryOutcome {
        let kind = spec.kind();
        let created = !self.by_name.contains_key(&name);
        if created {
            match self.spawn_object(&name, spec, from) {
                Ok(entry) => {
                    self.by_id.insert(entry.handle.id, name.clone());
                    self.by_name.insert(name.clone(), entry);
                }
                Err(e) => return RegistryOutcome::failed(e),
            }
        }
        let entry = &self.by_name[&name];
        if entry.handle.kind != kind {
            return RegistryOutcome::failed(ManagerError::KindMismatch {
                name: name.to_string(),
                existing: entry.handle.kind.clone(),
                requested: kind,
            });
        }
        RegistryOutcome {
            reply: Ok(RegistryReply::Object(Self::info(entry, &name, created))),
            handle: Some(entry.handle.clone()),
            removed: None,
        }
    }

    fn lookup(&self, name: &ObjectName) -> RegistryOutcome {
        match self.by_name.get(name) {
            Some(entry) => RegistryOutcome {
                reply: Ok(RegistryReply::Object(Self::info(entry, name, false))),
                handle: Some(entry.handle.clone()),
                removed: None,
            },
            None => RegistryOutcome::failed(ManagerError::NoSuchObject {
                name: name.to_string(),
            }),
        }
    }

    fn remove(&mut self, name: &ObjectName) -> RegistryOutcome {
        let removed = self.by_name.remove(name);
        if let Some(entry) = &removed {
            self.by_id.remove(&entry.handle.id);
            // A stop must not be lost to a full mailbox; it is one
            // message per removal, so ignoring the bound is safe.
            entry.stop.do_send(StopObject);
            tracing::debug!(id = %entry.handle.id, %name, "object removed");
        }
        RegistryOutcome {
            reply: Ok(RegistryReply::Removed(removed.is_some())),
            handle: None,
            // A shared memory block outlives its removal while mapped: the
            // remover keeps its handle, so that its unmaps and its close
            // still reach the block (the handle goes when the block stops).
            removed: removed
                .filter(|entry| entry.handle.kind != ObjectKind::SharedMemory)
                .map(|entry| entry.handle.id),
        }
    }

    /// Every object, sorted by name, with its counters.
    pub fn summaries(&self) -> Vec<ObjectSummary> {
        self.by_name
            .iter()
            .map(|(name, entry)| ObjectSummary {
                id: entry.handle.id,
                name: name.clone(),
                kind: entry.handle.kind.clone(),
                messages_handled: entry.stats.handled(),
            })
            .collect()
    }
}

impl Actor for RegistryActor {
    type Context = Context<Self>;
}

impl Handler<RegistryCall> for RegistryActor {
    type Result = MessageResult<RegistryCall>;

    fn handle(&mut self, call: RegistryCall, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.apply(call.request, call.from))
    }
}

impl Handler<RegistryCalls> for RegistryActor {
    type Result = MessageResult<RegistryCalls>;

    fn handle(&mut self, calls: RegistryCalls, _ctx: &mut Self::Context) -> Self::Result {
        let from = calls.from;
        MessageResult(
            calls
                .requests
                .into_iter()
                .map(|request| self.apply(request, from))
                .collect(),
        )
    }
}

impl Handler<InspectObjects> for RegistryActor {
    type Result = ResponseFuture<Vec<ObjectReport>>;

    fn handle(&mut self, msg: InspectObjects, ctx: &mut Self::Context) -> Self::Result {
        // The registry is read a window at a time too, each window by a
        // message of its own, so reading 100,000 entries never holds the
        // thread in one go, and requests to the registry go on in between.
        let registry = ctx.address();
        Box::pin(async move {
            let mut reports = Vec::new();
            let mut after = None;
            loop {
                let read = ReadWindow {
                    after: after.take(),
                    max: INSPECT_WINDOW,
                };
                let Ok(to_ask) = registry.send(read).await else {
                    break;
                };
                let Some((last, _)) = to_ask.last() else {
                    break;
                };
                after = Some(last.name.clone());
                // Every request of the window is queued now, so its actors
                // work on them together; only the waiting is sequential.
                let window: Vec<_> = to_ask
                    .into_iter()
                    .map(|(report, actor)| (report, actor.send(ReportObject)))
                    .collect();
                let deadline = tokio::time::Instant::now() + msg.timeout;
                for (mut report, answer) in window {
                    // An answer already in is taken even past the deadline.
                    let answer = tokio::time::timeout_at(deadline, answer)
                        .await
                        .ok()
                        .and_then(Result::ok);
                    (report.detail, report.latency) = answer.unzip();
                    if report.detail.is_none() {
                        tracing::debug!(id = %report.id, name = %report.name, "no report in time");
                    }
                    reports.push(report);
                }
            }
            reports
        })
    }
}

/// One window of an inspection: what the registry knows of at most `max`
/// objects whose names come after `after`, in name order, each with where
/// to ask it for its detail.
struct ReadWindow {
    after: Option<ObjectName>,
    max: usize,
}

impl Message for ReadWindow {
    type Result = Vec<(ObjectReport, Recipient<ReportObject>)>;
}

impl Handler<ReadWindow> for RegistryActor {
    type Result = MessageResult<ReadWindow>;

    fn handle(&mut self, msg: ReadWindow, _ctx: &mut Self::Context) -> Self::Result {
        use std::ops::Bound;
        let from = match &msg.after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Unbounded,
        };
        let window = self
            .by_name
            .range::<ObjectName, _>((from, Bound::Unbounded))
            .take(msg.max)
            .map(|(name, entry)| {
                let stats = &entry.stats;
                let report = ObjectReport {
                    id: entry.handle.id,
                    name: name.clone(),
                    kind: entry.handle.kind.clone(),
                    created_at: stats.created_at(),
                    messages_handled: stats.handled(),
                    mailbox: stats.in_mailbox(),
                    thread: u32::try_from(entry.thread.0).unwrap_or(u32::MAX),
                    last_operation: stats.last_operation(),
                    detail: None,
                    latency: None,
                };
                (report, entry.handle.report.clone())
            })
            .collect();
        MessageResult(window)
    }
}

impl Handler<ResolveId> for RegistryActor {
    type Result = Option<ObjectHandle>;

    fn handle(&mut self, msg: ResolveId, _ctx: &mut Self::Context) -> Self::Result {
        let name = self.by_id.get(&msg.0)?;
        Some(self.by_name[name].handle.clone())
    }
}

#[cfg(test)]
mod tests {
    use manager_core::WireName;

    use super::*;

    fn name(s: &str) -> WireName {
        ObjectName::new(s).unwrap().into()
    }

    #[actix::test]
    async fn create_or_get_reuses_and_checks_kind() {
        let registry = RegistryActor::new().start();
        let create = || {
            RegistryCall::new(RegistryRequest::CreateOrGet {
                name: name("cfg"),
                spec: ObjectSpec::Namespace,
            })
        };
        let first = registry.send(create()).await.unwrap();
        let second = registry.send(create()).await.unwrap();
        let (Ok(RegistryReply::Object(a)), Ok(RegistryReply::Object(b))) =
            (first.reply, second.reply)
        else {
            panic!("create-or-get failed");
        };
        assert!(a.created && !b.created);
        assert_eq!(a.id, b.id);

        let removed = registry
            .send(RegistryCall::new(RegistryRequest::Remove {
                name: name("cfg"),
            }))
            .await
            .unwrap();
        assert_eq!(removed.reply, Ok(RegistryReply::Removed(true)));
        assert!(registry.send(ResolveId(a.id)).await.unwrap().is_none());
        let lookup = registry
            .send(RegistryCall::new(RegistryRequest::Lookup {
                name: name("cfg"),
            }))
            .await
            .unwrap();
        assert!(matches!(
            lookup.reply,
            Err(ManagerError::NoSuchObject { .. })
        ));
        let again = registry.send(create()).await.unwrap();
        let Ok(RegistryReply::Object(c)) = again.reply else {
            panic!("recreate failed")
        };
        assert_ne!(c.id, a.id, "ids are never reused");
    }

    #[actix::test]
    async fn a_bad_name_fails_its_request_and_changes_nothing() {
        let registry = RegistryActor::new().start();
        for bad in ["x".repeat(300), "bad\u{7}name".to_owned(), String::new()] {
            for request in [
                RegistryRequest::CreateOrGet {
                    name: WireName::new(bad.clone()),
                    spec: ObjectSpec::Namespace,
                },
                RegistryRequest::Lookup {
                    name: WireName::new(bad.clone()),
                },
                RegistryRequest::Remove {
                    name: WireName::new(bad.clone()),
                },
            ] {
                let outcome = registry.send(RegistryCall::new(request)).await.unwrap();
                assert!(
                    matches!(outcome.reply, Err(ManagerError::InvalidName { .. })),
                    "{bad:?}: {:?}",
                    outcome.reply
                );
                assert!(outcome.handle.is_none());
            }
        }
        // A custom type's name too, however long it came.
        for bad in ["x".repeat(1 << 20), "no space".to_owned()] {
            let type_name: manager_core::TypeName =
                manager_core::codec::decode(&manager_core::codec::encode(&bad).unwrap()).unwrap();
            let request = RegistryRequest::CreateOrGet {
                name: name("custom"),
                spec: ObjectSpec::Custom {
                    type_name,
                    init: manager_core::Encoded::encode(&()).unwrap(),
                },
            };
            let outcome = registry.send(RegistryCall::new(request)).await.unwrap();
            assert!(
                matches!(outcome.reply, Err(ManagerError::InvalidName { .. })),
                "{:?}",
                outcome.reply
            );
        }
        let list = registry
            .send(RegistryCall::new(RegistryRequest::List))
            .await
            .unwrap();
        assert_eq!(list.reply, Ok(RegistryReply::Objects(Vec::new())));
    }

    thread_local! {
        /// How many [`Counted`] objects have reported on this thread.
        static REPORTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// A custom object that counts its inspection reports.
    #[derive(Debug)]
    struct Counted;

    impl manager_core::custom::CustomType for Counted {
        const TYPE_NAME: &'static str = "tests.counted";
        type Init = ();
        type Request = ();
        type Reply = ();
    }

    impl crate::CustomObject for Counted {
        fn create((): ()) -> Result<Self, String> {
            Ok(Counted)
        }

        fn handle(&mut self, (): (), _call: &crate::CallInfo<'_>) {}

        fn size(&self) -> Option<u64> {
            REPORTED.set(REPORTED.get() + 1);
            None
        }
    }

    /// An inspection of many objects asks them a window at a time: a
    /// client's requests are answered between windows, not after every
    /// object has reported. The result is every object, sorted by name,
    /// each reported.
    #[actix::test]
    async fn an_inspection_lets_other_requests_through_between_windows() {
        use std::cell::Cell;
        use std::rc::Rc;

        use manager_core::reply::Reply;
        use manager_core::request::{ListRequest, ObjectRequest};
        use manager_core::{Encoded, TypeName};

        use crate::objects::testing::{Conn, Harness};

        let windows = 8;
        let types = CustomTypes::new().register::<Counted>();
        let harness = Rc::new(Harness::with_custom_types(types));
        for i in 0..INSPECT_WINDOW * windows {
            let spec = ObjectSpec::Custom {
                type_name: TypeName::new("tests.counted").unwrap(),
                init: Encoded::encode(&()).unwrap(),
            };
            harness.object(&format!("o{i:05}"), spec).await;
        }
        let good = harness.object("good", ObjectSpec::List).await;
        // Both sides are tasks of their own, as the bridge's connections
        // are (the test's own future is polled out of turn). The client
        // notes the most reports made between two of its answers.
        let done = Rc::new(Cell::new(false));
        let client = actix::spawn({
            let done = done.clone();
            async move {
                let mut conn = Conn::new(1);
                let (mut last, mut most) = (REPORTED.get(), 0);
                while !done.get() {
                    let len = conn
                        .call(&good, ObjectRequest::List(ListRequest::Len))
                        .await;
                    assert_eq!(len, Ok(Reply::Count(0)));
                    let now = REPORTED.get();
                    most = most.max(now - last);
                    last = now;
                }
                most
            }
        });
        let inspection = actix::spawn({
            let (harness, done) = (harness.clone(), done.clone());
            async move {
                let reports = harness.inspect().await;
                done.set(true);
                reports
            }
        });
        let reports = tokio::time::timeout(Duration::from_secs(60), inspection)
            .await
            .expect("the inspection ends")
            .unwrap();
        let most = tokio::time::timeout(Duration::from_secs(10), client)
            .await
            .expect("the client stops")
            .unwrap();
        assert_eq!(REPORTED.get(), INSPECT_WINDOW * windows);
        assert!(
            most <= 2 * INSPECT_WINDOW,
            "{most} objects reported between two answers to another client"
        );
        assert_eq!(reports.len(), INSPECT_WINDOW * windows + 1);
        assert!(
            reports.windows(2).all(|w| w[0].name < w[1].name),
            "sorted by name"
        );
        assert!(
            reports.iter().all(|r| r.detail.is_some()),
            "every object reported"
        );
    }

    /// The registry keeps its calls' reply types too (an inspection is
    /// answered by the bridge, and checked by the inspection tests).
    #[actix::test]
    async fn registry_calls_reply_their_types() {
        use manager_core::reply::{Reply, ReplyShape};
        use manager_core::request::{Call, RegistryRequest};
        use manager_core::{ObjectName, ObjectSpec};

        use crate::objects::testing::Harness;

        async fn ask<R: ReplyShape>(h: &Harness, call: Call<R, RegistryRequest>) -> R {
            let what = format!("{call:?}");
            let reply = h
                .registry(call.into_request())
                .await
                .unwrap_or_else(|e| panic!("{what} failed: {e}"));
            R::from_reply(Reply::Registry(reply))
                .unwrap_or_else(|other| panic!("{what} answered {other:?}"))
        }
        let h = Harness::new();
        let name = || ObjectName::new("r").unwrap().into();
        let info = ask(&h, RegistryRequest::create_or_get(name(), ObjectSpec::Set)).await;
        assert!(info.created);
        assert_eq!(ask(&h, RegistryRequest::lookup(name())).await.id, info.id);
        assert_eq!(ask(&h, RegistryRequest::list()).await.len(), 1);
        assert!(ask(&h, RegistryRequest::remove(name())).await.0);
    }
}

//! The custom types' tests: panics in a type's own code, and a
//! [`CustomKind`](super::CustomKind) that parks requests.

use manager_core::request::ObjectRequest;
use manager_core::{Encoded, ManagerError, ObjectSpec, TypeName};
use serde::{Deserialize, Deserializer, Serialize};

use manager_core::custom::CustomType;

use super::{CallInfo, CustomObject, CustomTypes};
use crate::objects::testing::{Conn, Harness};

/// A number whose `Deserialize` panics on 13, as an application's
/// hand-written impl might on input it did not expect.
#[derive(Debug, Serialize)]
struct Touchy(u8);

impl<'de> Deserialize<'de> for Touchy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u8::deserialize(deserializer)?;
        assert!(n != 13, "unlucky number");
        Ok(Touchy(n))
    }
}

/// Answers the number it is sent plus the one it was made with.
struct Adder(u8);

impl CustomType for Adder {
    const TYPE_NAME: &'static str = "tests.adder";
    type Init = Touchy;
    type Request = Touchy;
    type Reply = u8;
}

impl CustomObject for Adder {
    fn create(init: Touchy) -> Result<Self, String> {
        Ok(Adder(init.0))
    }

    fn handle(&mut self, request: Touchy, _call: &CallInfo<'_>) -> u8 {
        self.0.wrapping_add(request.0)
    }
}

fn spec(init: u8) -> ObjectSpec {
    ObjectSpec::Custom {
        type_name: TypeName::new(Adder::TYPE_NAME).unwrap(),
        init: Encoded::encode(&Touchy(init)).unwrap(),
    }
}

fn request(n: u8) -> ObjectRequest {
    ObjectRequest::Custom(Encoded::encode(&Touchy(n)).unwrap())
}

#[actix::test]
async fn a_panic_decoding_the_types_values_fails_that_request_only() {
    let harness = Harness::with_custom_types(CustomTypes::new().register::<Adder>());
    match harness.try_object("unlucky", spec(13)).await {
        Err(ManagerError::CreateFailed { reason, .. }) => {
            assert!(reason.contains("unlucky number"), "{reason}");
        }
        other => panic!("expected CreateFailed, got {other:?}"),
    }
    // The registry goes on.
    let adder = harness.object("adder", spec(1)).await;

    let mut conn = Conn::new(1);
    match conn.call(&adder, request(13)).await {
        Err(ManagerError::Panicked {
            message,
            earlier: false,
            ..
        }) => assert_eq!(message, "unlucky number"),
        other => panic!("expected Panicked, got {other:?}"),
    }
    // The state was never touched: the object is not poisoned.
    let reply = conn.call(&adder, request(2)).await.unwrap();
    let manager_core::reply::Reply::Value(sum) = reply else {
        panic!("expected a value, got {reply:?}");
    };
    assert_eq!(sum.decode::<u8>("the sum").unwrap(), 3);
}

mod waiting {
    //! A [`CustomKind`] written against [`ObjectState`] as a built-in kind
    //! is: it parks requests, times their waits, hears of cancelled ones and
    //! of closed connections, and reports its waiters.

    use std::time::Duration;

    use manager_core::custom::{CustomRequest, CustomType};
    use manager_core::inspect::{KindDetail, ObjectDetail};
    use manager_core::reply::Reply;
    use manager_core::request::{ObjectRequest, RequestId, Wait};
    use manager_core::{Encoded, ManagerError, ObjectSpec, TypeName};
    use serde::{Deserialize, Serialize};

    use crate::actor::{ObjectContext, ObjectState};
    use crate::object::{Caller, ConnectionId};
    use crate::objects::CustomKind;
    use crate::objects::CustomTypes;
    use crate::objects::testing::{Conn, Harness};
    use crate::waiters::{WaiterId, Waiters};

    /// A count that requests can wait to reach.
    struct Level;

    #[derive(Debug, Clone, Serialize, Deserialize)]
    enum LevelRequest {
        /// Adds to the count; answers the new count.
        Raise(u64),
        /// Answers the count once it is at least the first field, or
        /// `None` when the wait ends first.
        WaitFor(u64, Wait),
        /// Takes this much off the count if it has that much; answers the
        /// new count, or `None` (taking nothing) if it has less.
        Lower(u64),
        /// Panics, to poison the object.
        Panic,
        /// Adds 1 this many times, as a bulk request applied in slices;
        /// panics on the addition numbered by the second field, if any.
        RaiseEach(u64, Option<u64>),
    }

    impl CustomType for Level {
        const TYPE_NAME: &'static str = "tests.level";
        type Init = u64;
        type Request = LevelRequest;
        type Reply = Option<u64>;

        fn wait_mut(request: &mut LevelRequest) -> Option<&mut Wait> {
            match request {
                LevelRequest::WaitFor(_, wait) => Some(wait),
                _ => None,
            }
        }

        fn may_take(request: &LevelRequest) -> bool {
            matches!(request, LevelRequest::Lower(_))
        }

        fn undo_for(request: &LevelRequest, reply: &Option<u64>) -> Option<LevelRequest> {
            match (request, reply) {
                (LevelRequest::Lower(n), Some(_)) => Some(LevelRequest::Raise(*n)),
                _ => None,
            }
        }
    }

    #[derive(Debug, Default)]
    struct LevelState {
        count: u64,
        /// Parked `WaitFor`s, with the count each waits for.
        waiters: Waiters<u64>,
    }

    impl ObjectState for LevelState {
        type Request = CustomRequest<Level>;

        fn handle(
            &mut self,
            request: CustomRequest<Level>,
            caller: Caller,
            ctx: &mut ObjectContext<'_, Self>,
        ) {
            match request.into_inner() {
                LevelRequest::Raise(n) => {
                    self.count += n;
                    let reached: Vec<_> = self
                        .waiters
                        .iter()
                        .filter(|waiter| waiter.data <= self.count)
                        .map(|waiter| waiter.id)
                        .collect();
                    for id in reached {
                        if let Some(waiter) = self.waiters.take(id, ctx) {
                            waiter.caller.reply_custom::<Level>(Ok(Some(self.count)));
                        }
                    }
                    caller.reply_custom::<Level>(Ok(Some(self.count)));
                }
                LevelRequest::WaitFor(n, _) if self.count >= n => {
                    caller.reply_custom::<Level>(Ok(Some(self.count)));
                }
                LevelRequest::WaitFor(_, Wait::No) => caller.reply_custom::<Level>(Ok(None)),
                LevelRequest::WaitFor(n, wait) => {
                    self.waiters.park(caller, n, wait, ctx);
                }
                LevelRequest::Lower(n) => match self.count.checked_sub(n) {
                    Some(left) => {
                        self.count = left;
                        caller.reply_custom::<Level>(Ok(Some(left)));
                    }
                    None => caller.reply_custom::<Level>(Ok(None)),
                },
                LevelRequest::Panic => panic!("level told to panic"),
                LevelRequest::RaiseEach(n, panic_at) => ctx.in_slices(
                    self,
                    caller,
                    (0..n).collect(),
                    move |state: &mut Self, slice: Vec<u64>| {
                        for i in slice {
                            assert!(Some(i) != panic_at, "level told to panic in a slice");
                            state.count += 1;
                        }
                    },
                    |state: &mut Self| {
                        Ok(Reply::Value(
                            Encoded::encode(&Some(state.count)).expect("a level encodes"),
                        ))
                    },
                ),
            }
        }

        fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
            if let Some(waiter) = self.waiters.take(waiter, ctx) {
                waiter.caller.reply_custom::<Level>(Ok(None));
            }
        }

        fn cancel(
            &mut self,
            connection: ConnectionId,
            request: RequestId,
            ctx: &mut ObjectContext<'_, Self>,
        ) -> bool {
            self.waiters.cancel(connection, request, ctx)
        }

        fn connection_closed(
            &mut self,
            connection: ConnectionId,
            ctx: &mut ObjectContext<'_, Self>,
        ) {
            self.waiters.drop_connection(connection, ctx);
        }

        fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
            for waiter in self.waiters.drain(ctx) {
                waiter.caller.reply(Err(ctx.gone()));
            }
        }

        fn report(&self) -> ObjectDetail {
            ObjectDetail {
                size: KindDetail::Items { len: self.count },
                waiters: self.waiters.len() as u64,
                ..ObjectDetail::default()
            }
        }
    }

    impl CustomKind for LevelState {
        type Type = Level;

        fn create(start: u64) -> Result<Self, String> {
            Ok(LevelState {
                count: start,
                ..LevelState::default()
            })
        }
    }

    fn spec(start: u64) -> ObjectSpec {
        ObjectSpec::Custom {
            type_name: TypeName::new(Level::TYPE_NAME).unwrap(),
            init: Encoded::encode(&start).unwrap(),
        }
    }

    fn op(request: LevelRequest) -> ObjectRequest {
        CustomRequest::<Level>::new(request).into()
    }

    fn level(reply: Result<Reply, ManagerError>) -> Option<u64> {
        match reply {
            Ok(Reply::Value(value)) => value.decode("a level reply").unwrap(),
            other => panic!("expected a value, got {other:?}"),
        }
    }

    async fn harness() -> (Harness, crate::object::ObjectHandle) {
        let harness = Harness::with_custom_types(CustomTypes::new().register_kind::<LevelState>());
        let object = harness.object("level", spec(0)).await;
        (harness, object)
    }

    #[actix::test]
    async fn a_parked_wait_is_answered_when_another_request_releases_it() {
        let (_h, t) = harness().await;
        let mut waiter = Conn::new(1);
        let mut raiser = Conn::new(2);
        let w = waiter
            .send(&t, op(LevelRequest::WaitFor(3, Wait::Forever)))
            .await;
        waiter.nothing();
        assert_eq!(
            level(raiser.call(&t, op(LevelRequest::Raise(2))).await),
            Some(2)
        );
        waiter.nothing();
        let r = raiser.send(&t, op(LevelRequest::Raise(1))).await;
        assert_eq!(level(waiter.now(w)), Some(3));
        assert_eq!(level(raiser.now(r)), Some(3));
        // Reached already: answered at once.
        assert_eq!(
            level(
                waiter
                    .call(&t, op(LevelRequest::WaitFor(3, Wait::No)))
                    .await
            ),
            Some(3)
        );
    }

    #[actix::test]
    async fn a_timed_wait_ends_and_a_cancelled_one_is_taken_back() {
        let (h, t) = harness().await;
        let mut a = Conn::new(1);
        let timed = a
            .send(
                &t,
                op(LevelRequest::WaitFor(
                    5,
                    Wait::For(Duration::from_millis(30)),
                )),
            )
            .await;
        assert_eq!(level(a.later(timed).await), None);

        let parked = a
            .send(&t, op(LevelRequest::WaitFor(5, Wait::Forever)))
            .await;
        let reports = h.inspect().await;
        let detail = reports[0].detail.as_ref().expect("a report");
        assert_eq!(detail.waiters, 1, "{reports:?}");
        let cancel = a.send(&t, ObjectRequest::Cancel { request: parked }).await;
        assert_eq!(a.now(parked), Err(ManagerError::Cancelled));
        assert_eq!(a.now(cancel), Ok(Reply::Bool(true)));
        // Taken back: a raise past it answers nobody else.
        assert_eq!(level(a.call(&t, op(LevelRequest::Raise(9))).await), Some(9));
        a.nothing();
    }

    #[actix::test]
    async fn a_closed_connections_waits_are_dropped_and_the_object_goes_on() {
        let (_h, t) = harness().await;
        let mut dead = Conn::new(1);
        let _ = dead
            .send(&t, op(LevelRequest::WaitFor(5, Wait::Forever)))
            .await;
        dead.close(&[&t]).await;
        let mut alive = Conn::new(2);
        let w = alive
            .send(&t, op(LevelRequest::WaitFor(5, Wait::Forever)))
            .await;
        let r = alive.send(&t, op(LevelRequest::Raise(5))).await;
        assert_eq!(level(alive.now(w)), Some(5));
        assert_eq!(level(alive.now(r)), Some(5));
    }

    /// A reply that took something and is not delivered is given back
    /// through the type's `undo_for`, carried out by the default
    /// `ObjectState::undelivered`, as a built-in kind's grant is.
    #[actix::test]
    async fn an_undelivered_grant_is_given_back_through_undo_for() {
        let (_h, t) = harness().await;
        let mut a = Conn::new(1);
        assert_eq!(level(a.call(&t, op(LevelRequest::Raise(5))).await), Some(5));
        // A connection whose reader has gone: its replies are not delivered.
        let (sink, replies) = crate::object::ReplySink::new();
        drop(replies);
        t.stats.add_sent(1);
        t.mailbox
            .send(crate::object::ObjectBatch {
                connection: ConnectionId(2),
                calls: vec![crate::object::ObjectCall {
                    id: RequestId(1),
                    op: op(LevelRequest::Lower(3)),
                    bulk: false,
                }],
                replies: sink,
                read_at: std::time::Instant::now(),
            })
            .await
            .unwrap();
        // The give-back reaches the object after the lowering: the count
        // comes back.
        let back = a
            .send(
                &t,
                op(LevelRequest::WaitFor(5, Wait::For(Duration::from_secs(10)))),
            )
            .await;
        assert_eq!(level(a.later(back).await), Some(5));
    }

    /// A request that is not the type's request is refused with
    /// `WrongType`, naming both types: not `WrongKind`.
    #[actix::test]
    async fn a_request_of_another_type_names_both_types() {
        let (_h, t) = harness().await;
        let mut a = Conn::new(1);
        let other = ObjectRequest::Custom(Encoded::encode("raise").unwrap());
        match a.call(&t, other).await {
            Err(ManagerError::WrongType {
                what,
                stored,
                requested,
            }) => {
                assert!(what.contains("`level`"), "{what}");
                assert!(stored.contains("str"), "{stored}");
                assert!(requested.contains("LevelRequest"), "{requested}");
            }
            other => panic!("expected WrongType, got {other:?}"),
        }
        assert!(matches!(
            a.call(
                &t,
                ObjectRequest::Queue(manager_core::request::QueueRequest::Len)
            )
            .await,
            Err(ManagerError::WrongKind { .. })
        ));
    }

    /// A panic in a later slice of a bulk request answers that request
    /// `Panicked`, as a panic in its first slice does, and the requests
    /// after it in its batch as a poisoned object's: none is left
    /// unanswered (a connection's next bulk request waits for this one's
    /// reply).
    #[actix::test]
    async fn a_panic_in_a_later_bulk_slice_answers_the_bulk_request() {
        let (_h, t) = harness().await;
        let slice = crate::actor::BULK_SLICE as u64;
        let mut a = Conn::new(1);
        // Unpoisoned, a bulk request is answered once its last slice is.
        let whole = a
            .send(&t, op(LevelRequest::RaiseEach(2 * slice + 1, None)))
            .await;
        assert_eq!(level(a.later(whole).await), Some(2 * slice + 1));
        let ids = a
            .send_batch(
                &t,
                vec![
                    op(LevelRequest::RaiseEach(3 * slice, Some(2 * slice + 5))),
                    op(LevelRequest::Raise(1)),
                ],
            )
            .await;
        match a.later(ids[0]).await {
            Err(ManagerError::Panicked {
                message,
                earlier: false,
                ..
            }) => assert_eq!(message, "level told to panic in a slice"),
            other => panic!("expected Panicked, got {other:?}"),
        }
        assert!(matches!(
            a.later(ids[1]).await,
            Err(ManagerError::Panicked { earlier: true, .. })
        ));
        a.nothing();
    }

    /// A panic in a state written against `ObjectState` poisons that
    /// object only: its parked requests are answered, later ones get
    /// `Panicked`, and other objects go on.
    #[actix::test]
    async fn a_panicking_state_is_poisoned_and_the_rest_go_on() {
        let (h, t) = harness().await;
        let other = h.object("other", spec(1)).await;
        let mut a = Conn::new(1);
        let parked = a
            .send(&t, op(LevelRequest::WaitFor(5, Wait::Forever)))
            .await;
        let ids = a
            .send_batch(
                &t,
                vec![op(LevelRequest::Panic), op(LevelRequest::Raise(1))],
            )
            .await;
        assert!(matches!(
            a.now(parked),
            Err(ManagerError::ObjectGone { .. })
        ));
        match a.now(ids[0]) {
            Err(ManagerError::Panicked {
                message,
                earlier: false,
                ..
            }) => assert_eq!(message, "level told to panic"),
            other => panic!("expected Panicked, got {other:?}"),
        }
        assert!(matches!(
            a.now(ids[1]),
            Err(ManagerError::Panicked { earlier: true, .. })
        ));
        assert!(matches!(
            a.call(&t, op(LevelRequest::Raise(1))).await,
            Err(ManagerError::Panicked { earlier: true, .. })
        ));
        assert_eq!(
            level(a.call(&other, op(LevelRequest::Raise(1))).await),
            Some(2)
        );
        // It can still be removed.
        h.remove("level").await;
    }
}

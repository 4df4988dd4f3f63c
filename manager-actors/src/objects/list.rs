//! [`ListState`]: a list, like Python's `Manager().list()`.
//!
//! Indices follow Python ([`super::sequence`]): negative ones count from
//! the end, slices clamp, `insert` clamps. Every request is applied whole
//! before the next one starts, so `extend` of many items lands as one block
//! and `pop` never hands one item to two clients. A large `extend` is
//! applied in slices ([`ObjectContext::in_slices`]), the list taking no
//! other request meanwhile; a large list cleared or replaced is freed off
//! the actors' thread ([`crate::discard`]).
//!
//! # Versions
//!
//! The list keeps a version number that changes with every modification.
//! [`ListRequest::VersionedSnapshot`] reads the items with it, and
//! [`ListRequest::ReplaceIfVersion`] replaces them only if nothing changed
//! since: that is how a client sorts (read, sort locally, replace) without
//! losing an item another client appended meanwhile.
//!
//! # Types
//!
//! A pop that names the type its caller will decode the item as
//! ([`ListRequest::Pop`]'s `expect`) checks the item's tag first: an item of
//! another type is not removed, and the pop fails with
//! [`ManagerError::WrongType`].

use manager_core::inspect::ObjectDetail;
use manager_core::reply::Reply;
use manager_core::request::ListRequest;
use manager_core::{Encoded, ManagerError, TypeTag};

use super::sequence::{insert_position, resolve_index, slice_range};
use crate::actor::{ObjectContext, ObjectState};
use crate::discard::discard;
use crate::object::Caller;

/// Fails, naming `what`, if `item` cannot be read as `expect` (`None`: any
/// type will do): [`ManagerError::WrongType`] if it was stored as another
/// type, [`ManagerError::DoesNotFit`] if it is a number of another width
/// that `expect` cannot hold ([`Encoded::read_as`]). Requests that take an
/// item out (a queue's get, a list's, set's or dict's pop) call it *before*
/// removing anything, so an item read as the wrong type is never destroyed.
pub(super) fn check_type(
    item: &Encoded,
    expect: Option<&TypeTag>,
    what: impl Fn() -> String,
) -> Result<(), ManagerError> {
    match expect {
        Some(wanted) => item.read_as(wanted, super::Lazy(what)).map(drop),
        None => Ok(()),
    }
}

/// One list's items and version.
#[derive(Debug, Default)]
pub struct ListState {
    items: Vec<Encoded>,
    version: u64,
}

impl ListState {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one request; `what` names the list in errors (for example
    /// "list `jobs`").
    ///
    /// # Errors
    ///
    /// [`ManagerError::IndexOutOfRange`] for an index outside the list,
    /// [`ManagerError::Empty`] for a pop from an empty list,
    /// [`ManagerError::WrongType`] for a pop of an item stored as another
    /// type than the one expected, and [`ManagerError::NotFound`] for
    /// `remove` or `index` of an absent item. A failed request changes
    /// nothing.
    pub fn apply(
        &mut self,
        request: ListRequest,
        what: impl Fn() -> String,
    ) -> Result<Reply, ManagerError> {
        let len = self.items.len();
        let out_of_range = |index: i64| ManagerError::IndexOutOfRange {
            what: what(),
            index,
            len: len as u64,
        };
        let position = |value: &Encoded| self.items.iter().position(|item| item == value);
        let reply = match request {
            // Reads.
            ListRequest::Len => return Ok(Reply::Count(len as u64)),
            ListRequest::Get { index } => {
                let i = resolve_index(index, len).ok_or_else(|| out_of_range(index))?;
                return Ok(Reply::Value(self.items[i].clone()));
            }
            ListRequest::Index { value } => {
                let i = position(&value).ok_or_else(|| ManagerError::NotFound { what: what() })?;
                return Ok(Reply::Count(i as u64));
            }
            ListRequest::Count { value } => {
                let n = self.items.iter().filter(|item| **item == value).count();
                return Ok(Reply::Count(n as u64));
            }
            ListRequest::Contains { value } => return Ok(Reply::Bool(position(&value).is_some())),
            ListRequest::Slice { start, stop } => {
                let range = slice_range(start, stop, len);
                return Ok(Reply::Values(self.items[range].to_vec()));
            }
            ListRequest::Snapshot => return Ok(Reply::Values(self.items.clone())),
            ListRequest::VersionedSnapshot => {
                return Ok(Reply::Versioned {
                    version: self.version,
                    values: self.items.clone(),
                });
            }
            ListRequest::ReplaceIfVersion { version, values } => {
                if version != self.version {
                    discard_items(values);
                    return Ok(Reply::Bool(false));
                }
                discard_items(std::mem::replace(&mut self.items, values));
                Reply::Bool(true)
            }

            // Modifications: each that succeeds bumps the version below.
            ListRequest::Set { index, value } => {
                let i = resolve_index(index, len).ok_or_else(|| out_of_range(index))?;
                self.items[i] = value;
                Reply::Done
            }
            ListRequest::Append { value } => {
                self.items.push(value);
                Reply::Done
            }
            ListRequest::Extend { values } => {
                self.items.extend(values);
                Reply::Done
            }
            ListRequest::Insert { index, value } => {
                self.items.insert(insert_position(index, len), value);
                Reply::Done
            }
            ListRequest::Pop { index, expect } => {
                if len == 0 {
                    return Err(ManagerError::Empty { what: what() });
                }
                let i = match index {
                    None => len - 1,
                    Some(index) => resolve_index(index, len).ok_or_else(|| out_of_range(index))?,
                };
                check_type(&self.items[i], expect.as_ref(), &what)?;
                Reply::Value(self.items.remove(i))
            }
            ListRequest::Remove { value } => {
                let i = position(&value).ok_or_else(|| ManagerError::NotFound { what: what() })?;
                self.items.remove(i);
                Reply::Done
            }
            ListRequest::Clear => {
                discard_items(std::mem::take(&mut self.items));
                Reply::Done
            }
            ListRequest::Reverse => {
                self.items.reverse();
                Reply::Done
            }
        };
        self.modified();
        Ok(reply)
    }

    /// Changes the version: the list has been modified.
    fn modified(&mut self) {
        self.version = self.version.wrapping_add(1);
    }
}

/// Frees `items`, off the actors' thread if there are many.
pub(super) fn discard_items(items: Vec<Encoded>) {
    let len = items.len();
    discard(items, len);
}

/// The state of a new list (`ObjectSpec::List`).
pub(super) fn list(_: &super::Making<'_>) -> Result<ListState, ManagerError> {
    Ok(ListState::new())
}

impl ObjectState for ListState {
    type Request = ListRequest;

    fn report(&self) -> ObjectDetail {
        super::items_report(&self.items)
    }

    fn handle(&mut self, request: ListRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        let result = match request {
            ListRequest::Extend { values } => {
                self.items.reserve(values.len());
                return ctx.in_slices(
                    self,
                    caller,
                    values,
                    |list, slice| list.items.extend(slice),
                    |list| {
                        list.modified();
                        Ok(Reply::Done)
                    },
                );
            }
            request => self.apply(request, || ctx.what()),
        };
        caller.reply(result);
    }

    fn removed(&mut self, _ctx: &mut ObjectContext<'_, Self>) {
        discard_items(std::mem::take(&mut self.items));
    }
}

#[cfg(test)]
mod tests {
    use manager_core::request::RequestId;
    use manager_core::{ObjectId, ObjectName, ObjectSpec};

    use super::*;
    use crate::object::{ConnectionId, ObjectBatch, ObjectCall, ReplySink};
    use crate::objects::spawn;
    use manager_core::request::ObjectRequest;

    fn v(x: i64) -> Encoded {
        Encoded::encode(&x).unwrap()
    }

    fn vs(xs: &[i64]) -> Vec<Encoded> {
        xs.iter().map(|&x| v(x)).collect()
    }

    fn ap(list: &mut ListState, request: ListRequest) -> Result<Reply, ManagerError> {
        list.apply(request, || "list `l`".to_owned())
    }

    fn list_of(xs: &[i64]) -> ListState {
        let mut list = ListState::new();
        ap(&mut list, ListRequest::Extend { values: vs(xs) }).unwrap();
        list
    }

    fn items(list: &mut ListState) -> Vec<Encoded> {
        match ap(list, ListRequest::Snapshot) {
            Ok(Reply::Values(values)) => values,
            other => panic!("snapshot: {other:?}"),
        }
    }

    #[test]
    fn negative_indices_count_from_the_end() {
        let mut list = list_of(&[10, 20, 30]);
        assert_eq!(
            ap(&mut list, ListRequest::Get { index: -1 }),
            Ok(Reply::Value(v(30)))
        );
        assert_eq!(
            ap(&mut list, ListRequest::Get { index: -3 }),
            Ok(Reply::Value(v(10)))
        );
        ap(
            &mut list,
            ListRequest::Set {
                index: -2,
                value: v(21),
            },
        )
        .unwrap();
        assert_eq!(
            ap(
                &mut list,
                ListRequest::Pop {
                    index: Some(-3),
                    expect: None
                }
            ),
            Ok(Reply::Value(v(10)))
        );
        assert_eq!(items(&mut list), vs(&[21, 30]));
    }

    #[test]
    fn out_of_range_names_the_list_and_changes_nothing() {
        let mut list = list_of(&[1, 2, 3]);
        for request in [
            ListRequest::Get { index: 3 },
            ListRequest::Get { index: -4 },
            ListRequest::Set {
                index: 5,
                value: v(0),
            },
            ListRequest::Pop {
                index: Some(-4),
                expect: None,
            },
        ] {
            let err = ap(&mut list, request).unwrap_err();
            assert!(
                matches!(err, ManagerError::IndexOutOfRange { len: 3, .. }),
                "{err}"
            );
        }
        let err = ap(&mut list, ListRequest::Get { index: 7 }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "index 7 is out of range for list `l` of length 3"
        );
        assert_eq!(items(&mut list), vs(&[1, 2, 3]));
    }

    #[test]
    fn insert_clamps_like_python() {
        let mut list = list_of(&[1, 2, 3]);
        let mut insert = |index, x| {
            ap(&mut list, ListRequest::Insert { index, value: v(x) }).unwrap();
        };
        insert(-1, 9); // before the last: [1, 2, 9, 3]
        insert(100, 7); // at the end
        insert(-100, 0); // at the start
        insert(1, 5);
        assert_eq!(items(&mut list), vs(&[0, 5, 1, 2, 9, 3, 7]));
    }

    #[test]
    fn pop_remove_index_count_contains() {
        let mut list = list_of(&[1, 2, 1, 3]);
        assert_eq!(
            ap(&mut list, ListRequest::Index { value: v(1) }),
            Ok(Reply::Count(0))
        );
        assert_eq!(
            ap(&mut list, ListRequest::Count { value: v(1) }),
            Ok(Reply::Count(2))
        );
        ap(&mut list, ListRequest::Remove { value: v(1) }).unwrap();
        assert_eq!(items(&mut list), vs(&[2, 1, 3]));
        assert!(matches!(
            ap(&mut list, ListRequest::Remove { value: v(9) }),
            Err(ManagerError::NotFound { .. })
        ));
        assert!(matches!(
            ap(&mut list, ListRequest::Index { value: v(9) }),
            Err(ManagerError::NotFound { .. })
        ));
        assert_eq!(
            ap(&mut list, ListRequest::Contains { value: v(3) }),
            Ok(Reply::Bool(true))
        );
        assert_eq!(
            ap(
                &mut list,
                ListRequest::Pop {
                    index: None,
                    expect: None
                }
            ),
            Ok(Reply::Value(v(3)))
        );
        ap(&mut list, ListRequest::Clear).unwrap();
        let err = ap(
            &mut list,
            ListRequest::Pop {
                index: None,
                expect: None,
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "list `l` is empty");
        assert!(matches!(
            ap(
                &mut list,
                ListRequest::Pop {
                    index: Some(0),
                    expect: None
                }
            ),
            Err(ManagerError::Empty { .. })
        ));
    }

    #[test]
    fn a_pop_of_another_type_leaves_the_item() {
        let mut list = list_of(&[1, 2, 3]);
        let before = match ap(&mut list, ListRequest::VersionedSnapshot) {
            Ok(Reply::Versioned { version, .. }) => version,
            other => panic!("{other:?}"),
        };
        for index in [None, Some(0), Some(-2)] {
            assert_eq!(
                ap(
                    &mut list,
                    ListRequest::Pop {
                        index,
                        expect: Some(TypeTag::of::<String>()),
                    }
                ),
                Err(ManagerError::WrongType {
                    what: "list `l`".into(),
                    stored: "i64".into(),
                    requested: "alloc::string::String".into(),
                })
            );
        }
        // An index outside the list is still reported as such.
        assert!(matches!(
            ap(
                &mut list,
                ListRequest::Pop {
                    index: Some(9),
                    expect: Some(TypeTag::of::<String>()),
                }
            ),
            Err(ManagerError::IndexOutOfRange { .. })
        ));
        assert_eq!(items(&mut list), vs(&[1, 2, 3]));
        let after = match ap(&mut list, ListRequest::VersionedSnapshot) {
            Ok(Reply::Versioned { version, .. }) => version,
            other => panic!("{other:?}"),
        };
        assert_eq!(before, after, "a refused pop is no modification");
        assert_eq!(
            ap(
                &mut list,
                ListRequest::Pop {
                    index: Some(0),
                    expect: Some(TypeTag::of::<i64>()),
                }
            ),
            Ok(Reply::Value(v(1)))
        );
        assert_eq!(items(&mut list), vs(&[2, 3]));
    }

    #[test]
    fn slices_and_reverse() {
        let mut list = list_of(&[0, 1, 2, 3, 4]);
        let slice = |list: &mut ListState, start, stop| {
            ap(list, ListRequest::Slice { start, stop }).unwrap()
        };
        assert_eq!(
            slice(&mut list, Some(1), Some(-1)),
            Reply::Values(vs(&[1, 2, 3]))
        );
        assert_eq!(slice(&mut list, Some(-2), None), Reply::Values(vs(&[3, 4])));
        assert_eq!(slice(&mut list, Some(4), Some(1)), Reply::Values(vec![]));
        assert_eq!(
            slice(&mut list, None, Some(100)),
            Reply::Values(vs(&[0, 1, 2, 3, 4]))
        );
        ap(&mut list, ListRequest::Reverse).unwrap();
        assert_eq!(items(&mut list), vs(&[4, 3, 2, 1, 0]));
    }

    #[test]
    fn replace_only_at_the_version_read() {
        let mut list = list_of(&[3, 1, 2]);
        let Ok(Reply::Versioned { version, values }) =
            ap(&mut list, ListRequest::VersionedSnapshot)
        else {
            panic!("versioned snapshot");
        };
        assert_eq!(values, vs(&[3, 1, 2]));
        // Someone appends in between: the replace is refused.
        ap(&mut list, ListRequest::Append { value: v(0) }).unwrap();
        assert_eq!(
            ap(
                &mut list,
                ListRequest::ReplaceIfVersion {
                    version,
                    values: vs(&[1, 2, 3]),
                }
            ),
            Ok(Reply::Bool(false))
        );
        let Ok(Reply::Versioned { version, .. }) = ap(&mut list, ListRequest::VersionedSnapshot)
        else {
            panic!("versioned snapshot");
        };
        assert_eq!(
            ap(
                &mut list,
                ListRequest::ReplaceIfVersion {
                    version,
                    values: vs(&[0, 1, 2, 3]),
                }
            ),
            Ok(Reply::Bool(true))
        );
        assert_eq!(items(&mut list), vs(&[0, 1, 2, 3]));
        // The replace itself is a modification.
        assert_eq!(
            ap(
                &mut list,
                ListRequest::ReplaceIfVersion {
                    version,
                    values: vec![],
                }
            ),
            Ok(Reply::Bool(false))
        );
    }

    #[test]
    fn failed_requests_and_reads_keep_the_version() {
        let mut list = list_of(&[1]);
        let version = |list: &mut ListState| match ap(list, ListRequest::VersionedSnapshot) {
            Ok(Reply::Versioned { version, .. }) => version,
            other => panic!("{other:?}"),
        };
        let before = version(&mut list);
        let _ = ap(&mut list, ListRequest::Get { index: 0 });
        let _ = ap(&mut list, ListRequest::Get { index: 5 });
        let _ = ap(&mut list, ListRequest::Remove { value: v(9) });
        assert_eq!(version(&mut list), before);
        ap(&mut list, ListRequest::Append { value: v(2) }).unwrap();
        assert_ne!(version(&mut list), before);
    }

    /// A huge extend is applied in slices: between them another object
    /// on the same thread answers, while the list takes nothing else; its
    /// result is whole to the next request of its batch and to another
    /// connection.
    #[actix::test]
    async fn a_huge_extend_lets_other_objects_run_and_stays_atomic() {
        use crate::actor::BULK_SLICE;
        use crate::objects::testing::{Conn, Harness};


        let harness = Harness::new();
        let big = harness.object("big", ObjectSpec::List).await;
        let other = harness.object("other", ObjectSpec::List).await;
        let n = BULK_SLICE * 32 + 5;
        let values: Vec<Encoded> = (0..n as i64).map(v).collect();
        let mut bulk = Conn::new(1);
        // Returns once the object has taken the batch: the first slice is
        // applied, the others are to come.
        let ids = bulk
            .send_batch(
                &big,
                vec![
                    ObjectRequest::List(ListRequest::Extend {
                        values: values.clone(),
                    }),
                    ObjectRequest::List(ListRequest::Len),
                ],
            )
            .await;
        let mut good = Conn::new(2);
        assert_eq!(
            good.call(
                &other,
                ObjectRequest::List(ListRequest::Append { value: v(1) })
            )
            .await,
            Ok(Reply::Done),
            "another object answers at once"
        );
        bulk.nothing();
        // Another connection's request waits for the whole extend.
        let mut third = Conn::new(3);
        assert_eq!(
            third
                .call(&big, ObjectRequest::List(ListRequest::Len))
                .await,
            Ok(Reply::Count(n as u64))
        );
        assert_eq!(bulk.now(ids[0]), Ok(Reply::Done));
        assert_eq!(bulk.now(ids[1]), Ok(Reply::Count(n as u64)));
        let snapshot = third
            .call(&big, ObjectRequest::List(ListRequest::Snapshot))
            .await;
        assert!(snapshot == Ok(Reply::Values(values)), "in order, whole");
    }

    /// The latency of a bulk request applied in many slices is
    /// the time until it was answered, not until its first slice.
    #[actix::test]
    async fn a_sliced_bulk_request_s_latency_covers_all_its_slices() {
        use crate::actor::BULK_SLICE;
        use crate::objects::testing::{Conn, Harness};


        let harness = Harness::new();
        let big = harness.object("big", ObjectSpec::List).await;
        let n = BULK_SLICE * 64;
        let values: Vec<Encoded> = (0..n as i64).map(v).collect();
        let mut bulk = Conn::new(1);
        let started = std::time::Instant::now();
        bulk.send_batch(
            &big,
            vec![ObjectRequest::List(ListRequest::Extend { values })],
        )
        .await;
        let reply = bulk.next().await;
        let took = started.elapsed();
        assert_eq!(reply.result, Ok(Reply::Done));
        let report = harness
            .inspect()
            .await
            .into_iter()
            .find(|r| r.name.as_str() == "big")
            .unwrap();
        let latency = report.latency.unwrap();
        assert_eq!(latency.count, 1);
        assert!(
            latency.max * 2 >= took,
            "answered after {took:?}, but its latency says at most {:?}",
            latency.max
        );
    }

    #[actix::test]
    async fn the_actor_answers_list_requests_and_refuses_others() {
        let (handle, _stop) = spawn(
            ObjectSpec::List,
            &crate::CustomTypes::new(),
            crate::objects::Placement::here(),
            ObjectId(1),
            ObjectName::new("l").unwrap(),
            Default::default(),
        )
        .unwrap();
        let (replies, mut rx) = ReplySink::new();
        let call = |id, op| ObjectCall {
            id: RequestId(id),
            op,
            bulk: false,
        };
        handle
            .mailbox
            .send(ObjectBatch {
                connection: ConnectionId(1),
                calls: vec![
                    call(1, ObjectRequest::List(ListRequest::Append { value: v(5) })),
                    call(2, ObjectRequest::List(ListRequest::Get { index: 1 })),
                    call(
                        3,
                        ObjectRequest::Value(manager_core::request::ValueRequest::Get),
                    ),
                    call(4, ObjectRequest::List(ListRequest::Get { index: -1 })),
                ],
                replies,
                read_at: std::time::Instant::now(),
            })
            .await
            .unwrap();
        assert_eq!(rx.recv().await.unwrap().deliver().result, Ok(Reply::Done));
        assert!(matches!(
            rx.recv().await.unwrap().deliver().result,
            Err(ManagerError::IndexOutOfRange {
                index: 1,
                len: 1,
                ..
            })
        ));
        let err = rx.recv().await.unwrap().deliver().result.unwrap_err();
        assert_eq!(
            err.to_string(),
            "list `l` is a list; it cannot take a value request"
        );
        assert_eq!(
            rx.recv().await.unwrap().deliver().result,
            Ok(Reply::Value(v(5)))
        );
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{ListRequest};
        use manager_core::{ObjectSpec, TypeTag};

        use crate::objects::testing::{Conn, Harness, ask, int as v};

        let (_h, o) = Harness::start(ObjectSpec::List).await;
        let c = &mut Conn::new(1);
        ask(c, &o, ListRequest::append(v(1))).await;
        ask(c, &o, ListRequest::extend(vec![v(2), v(3)])).await;
        ask(c, &o, ListRequest::insert(0, v(0))).await;
        ask(c, &o, ListRequest::set(0, v(9))).await;
        ask(c, &o, ListRequest::get(0)).await;
        assert_eq!(ask(c, &o, ListRequest::len()).await, 4);
        ask(c, &o, ListRequest::index(v(2))).await;
        ask(c, &o, ListRequest::count(v(2))).await;
        ask(c, &o, ListRequest::contains(v(2))).await;
        ask(c, &o, ListRequest::slice(Some(0), None)).await;
        ask(c, &o, ListRequest::snapshot()).await;
        let version = ask(c, &o, ListRequest::versioned_snapshot()).await.version;
        ask(
            c,
            &o,
            ListRequest::replace_if_version(version, vec![v(1), v(2)]),
        )
        .await;
        ask(c, &o, ListRequest::reverse()).await;
        ask(c, &o, ListRequest::remove(v(1))).await;
        ask(c, &o, ListRequest::pop(None, Some(TypeTag::of::<i64>()))).await;
        ask(c, &o, ListRequest::clear()).await;
    }
}

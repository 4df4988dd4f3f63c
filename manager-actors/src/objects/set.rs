//! [`SetState`]: a set in insertion order, like Python 3.14's `Manager().set()`.
//!
//! Items are compared by their encoding and type tag ([`Encoded`]'s
//! equality). Unlike Python's sets, this one keeps the order items were
//! added in, so every answer is deterministic: [`SetRequest::Pop`] takes
//! the last added item, and the results of [`SetRequest::Union`],
//! [`SetRequest::Intersection`] and [`SetRequest::Difference`] list the
//! set's items in its order, then (for a union) the new items in the order
//! given.
//!
//! Union, intersection and difference with many values read them a slice
//! at a time ([`ObjectContext::in_slices_with`]), the set taking no other
//! request meanwhile; a large set cleared or removed is freed off the
//! actors' thread ([`crate::discard`]).
//!
//! A pop that names the type its caller will decode the item as checks the
//! item's tag first: an item of another type stays in the set and the pop
//! fails with [`ManagerError::WrongType`].

use std::collections::HashSet;

use indexmap::IndexSet;
use manager_core::inspect::ObjectDetail;
use manager_core::reply::Reply;
use manager_core::request::SetRequest;
use manager_core::{Encoded, ManagerError};

use super::list::check_type;
use crate::actor::{ObjectContext, ObjectState};
use crate::discard::discard;
use crate::object::Caller;

/// One set's items, in the order they were added.
#[derive(Debug, Default)]
pub struct SetState {
    items: IndexSet<Encoded>,
}

impl SetState {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one request; `what` names the set in errors (for example
    /// "set `seen`").
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`] for a `remove` of an absent item,
    /// [`ManagerError::Empty`] for a `pop` from an empty set and
    /// [`ManagerError::WrongType`] for a `pop` of an item stored as another
    /// type than the one expected. A failed request changes nothing.
    pub fn apply(
        &mut self,
        request: SetRequest,
        what: impl Fn() -> String,
    ) -> Result<Reply, ManagerError> {
        Ok(match request {
            SetRequest::Add { value } => Reply::Bool(self.items.insert(value)),
            SetRequest::Remove { value } => {
                if !self.items.shift_remove(&value) {
                    return Err(ManagerError::NotFound { what: what() });
                }
                Reply::Done
            }
            SetRequest::Discard { value } => Reply::Bool(self.items.shift_remove(&value)),
            SetRequest::Contains { value } => Reply::Bool(self.items.contains(&value)),
            SetRequest::Len => Reply::Count(self.items.len() as u64),
            SetRequest::Pop { expect } => {
                let Some(last) = self.items.last() else {
                    return Err(ManagerError::Empty { what: what() });
                };
                check_type(last, expect.as_ref(), what)?;
                Reply::Value(self.items.pop().expect("checked non-empty"))
            }
            SetRequest::Clear => {
                self.discard_items();
                Reply::Done
            }
            SetRequest::Union { values } => {
                let mut union = self.items.clone();
                union.extend(values);
                Reply::Values(union.into_iter().collect())
            }
            SetRequest::Intersection { values } => {
                Reply::Values(self.filtered(&values.into_iter().collect(), true))
            }
            SetRequest::Difference { values } => {
                Reply::Values(self.filtered(&values.into_iter().collect(), false))
            }
            SetRequest::Snapshot => Reply::Values(self.items.iter().cloned().collect()),
        })
    }

    /// The set's items, in its order, that are (`in_others`) or are not
    /// in `others`.
    fn filtered(&self, others: &HashSet<Encoded>, in_others: bool) -> Vec<Encoded> {
        self.items
            .iter()
            .filter(|item| others.contains(*item) == in_others)
            .cloned()
            .collect()
    }

    /// Empties the set, freeing its items off the actors' thread if there
    /// are many.
    fn discard_items(&mut self) {
        let items = std::mem::take(&mut self.items);
        let len = items.len();
        discard(items, len);
    }
}

/// The state of a new set (`ObjectSpec::Set`).
pub(super) fn set(_: &super::Making<'_>) -> Result<SetState, ManagerError> {
    Ok(SetState::new())
}

impl ObjectState for SetState {
    type Request = SetRequest;

    fn report(&self) -> ObjectDetail {
        super::items_report(&self.items)
    }

    fn handle(&mut self, request: SetRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        let result = match request {
            // Reads of many values gather them a slice at a time.
            SetRequest::Union { values } => {
                return ctx.in_slices_with(
                    self,
                    caller,
                    values,
                    None,
                    |set, union: &mut Option<IndexSet<Encoded>>, slice| {
                        union.get_or_insert_with(|| set.items.clone()).extend(slice);
                    },
                    |set, union| {
                        let union = union.unwrap_or_else(|| set.items.clone());
                        Ok(Reply::Values(union.into_iter().collect()))
                    },
                );
            }
            SetRequest::Intersection { values } => {
                return ctx.in_slices_with(
                    self,
                    caller,
                    values,
                    HashSet::new(),
                    |_, others, slice| others.extend(slice),
                    |set, others| Ok(Reply::Values(set.filtered(&others, true))),
                );
            }
            SetRequest::Difference { values } => {
                return ctx.in_slices_with(
                    self,
                    caller,
                    values,
                    HashSet::new(),
                    |_, others, slice| others.extend(slice),
                    |set, others| Ok(Reply::Values(set.filtered(&others, false))),
                );
            }
            request => self.apply(request, || ctx.what()),
        };
        caller.reply(result);
    }

    fn removed(&mut self, _ctx: &mut ObjectContext<'_, Self>) {
        self.discard_items();
    }
}

#[cfg(test)]
mod tests {
    use manager_core::TypeTag;

    use super::*;
    use manager_core::request::ObjectRequest;

    fn v(x: i64) -> Encoded {
        Encoded::encode(&x).unwrap()
    }

    fn vs(xs: &[i64]) -> Vec<Encoded> {
        xs.iter().map(|&x| v(x)).collect()
    }

    fn ap(set: &mut SetState, request: SetRequest) -> Result<Reply, ManagerError> {
        set.apply(request, || "set `s`".to_owned())
    }

    fn set_of(xs: &[i64]) -> SetState {
        let mut set = SetState::new();
        for &x in xs {
            ap(&mut set, SetRequest::Add { value: v(x) }).unwrap();
        }
        set
    }

    #[test]
    fn add_remove_discard_contains() {
        let mut set = SetState::new();
        assert_eq!(
            ap(&mut set, SetRequest::Add { value: v(1) }),
            Ok(Reply::Bool(true))
        );
        assert_eq!(
            ap(&mut set, SetRequest::Add { value: v(1) }),
            Ok(Reply::Bool(false))
        );
        assert_eq!(
            ap(&mut set, SetRequest::Contains { value: v(1) }),
            Ok(Reply::Bool(true))
        );
        assert_eq!(ap(&mut set, SetRequest::Len), Ok(Reply::Count(1)));
        assert_eq!(
            ap(&mut set, SetRequest::Remove { value: v(1) }),
            Ok(Reply::Done)
        );
        let err = ap(&mut set, SetRequest::Remove { value: v(1) }).unwrap_err();
        assert_eq!(err.to_string(), "set `s` does not contain the value");
        assert_eq!(
            ap(&mut set, SetRequest::Discard { value: v(1) }),
            Ok(Reply::Bool(false))
        );
    }

    #[test]
    fn pop_takes_the_last_added_and_removal_keeps_order() {
        let mut set = set_of(&[3, 1, 2]);
        ap(&mut set, SetRequest::Discard { value: v(3) }).unwrap();
        ap(&mut set, SetRequest::Add { value: v(3) }).unwrap();
        assert_eq!(
            ap(&mut set, SetRequest::Snapshot),
            Ok(Reply::Values(vs(&[1, 2, 3])))
        );
        assert_eq!(
            ap(&mut set, SetRequest::Pop { expect: None }),
            Ok(Reply::Value(v(3)))
        );
        assert_eq!(
            ap(&mut set, SetRequest::Pop { expect: None }),
            Ok(Reply::Value(v(2)))
        );
        ap(&mut set, SetRequest::Clear).unwrap();
        let err = ap(&mut set, SetRequest::Pop { expect: None }).unwrap_err();
        assert_eq!(err.to_string(), "set `s` is empty");
    }

    #[test]
    fn a_pop_of_another_type_leaves_the_item() {
        let mut set = set_of(&[1, 1000]);
        assert_eq!(
            ap(
                &mut set,
                SetRequest::Pop {
                    expect: Some(TypeTag::of::<bool>())
                }
            ),
            Err(ManagerError::WrongType {
                what: "set `s`".into(),
                stored: "i64".into(),
                requested: "bool".into(),
            })
        );
        assert_eq!(
            ap(
                &mut set,
                SetRequest::Pop {
                    expect: Some(TypeTag::of::<u8>())
                }
            ),
            Err(ManagerError::DoesNotFit {
                what: "set `s`".into(),
                value: "1000".into(),
                stored: "i64".into(),
                requested: "u8".into(),
            })
        );
        assert_eq!(
            ap(&mut set, SetRequest::Snapshot),
            Ok(Reply::Values(vs(&[1, 1000])))
        );
        assert_eq!(
            ap(
                &mut set,
                SetRequest::Pop {
                    expect: Some(TypeTag::of::<u16>())
                }
            ),
            Ok(Reply::Value(v(1000)))
        );
        ap(&mut set, SetRequest::Clear).unwrap();
        assert!(matches!(
            ap(
                &mut set,
                SetRequest::Pop {
                    expect: Some(TypeTag::of::<u8>())
                }
            ),
            Err(ManagerError::Empty { .. })
        ));
    }

    #[test]
    fn set_algebra_in_a_deterministic_order() {
        let mut set = set_of(&[5, 1, 4, 2]);
        assert_eq!(
            ap(
                &mut set,
                SetRequest::Union {
                    values: vs(&[9, 1, 7, 9])
                }
            ),
            Ok(Reply::Values(vs(&[5, 1, 4, 2, 9, 7])))
        );
        assert_eq!(
            ap(
                &mut set,
                SetRequest::Intersection {
                    values: vs(&[2, 9, 5])
                }
            ),
            Ok(Reply::Values(vs(&[5, 2])))
        );
        assert_eq!(
            ap(
                &mut set,
                SetRequest::Difference {
                    values: vs(&[2, 9, 5])
                }
            ),
            Ok(Reply::Values(vs(&[1, 4])))
        );
        // None of them changed the set.
        assert_eq!(
            ap(&mut set, SetRequest::Snapshot),
            Ok(Reply::Values(vs(&[5, 1, 4, 2])))
        );
    }

    /// Union, intersection and difference with more values than a slice
    /// gather them in slices and answer as with few.
    #[actix::test]
    async fn set_reads_of_many_values_answer_as_with_few() {
        use crate::actor::BULK_SLICE;
        use crate::objects::testing::{Conn, Harness};
        use manager_core::ObjectSpec;

        let (_harness, set) = Harness::start(ObjectSpec::Set).await;
        let mut conn = Conn::new(1);
        for x in [5, -1, 3, -2] {
            conn.call(&set, ObjectRequest::Set(SetRequest::Add { value: v(x) }))
                .await
                .unwrap();
        }
        // 0..n twice over, the second time in reverse: 5 and 3 are in it.
        let n = BULK_SLICE as i64 + 10;
        let mut values: Vec<Encoded> = (0..n).map(v).collect();
        values.extend((0..n).rev().map(v));
        assert!(values.len() > BULK_SLICE * 2);
        let ask = |request| ObjectRequest::Set(request);
        let ids = conn
            .send_batch(
                &set,
                vec![
                    ask(SetRequest::Union {
                        values: values.clone(),
                    }),
                    ask(SetRequest::Intersection {
                        values: values.clone(),
                    }),
                    ask(SetRequest::Difference { values }),
                ],
            )
            .await;
        let mut union = vs(&[5, -1, 3, -2]);
        union.extend((0..n).filter(|x| *x != 5 && *x != 3).map(v));
        for (id, expected) in [
            (ids[0], union),
            (ids[1], vs(&[5, 3])),
            (ids[2], vs(&[-1, -2])),
        ] {
            let next = conn.next().await;
            assert_eq!(next.id, id);
            assert!(next.result == Ok(Reply::Values(expected)), "{id:?}");
        }
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{SetRequest};
        use manager_core::{ObjectSpec, TypeTag};

        use crate::objects::testing::{Conn, Harness, ask, int as v};

        let (_h, o) = Harness::start(ObjectSpec::Set).await;
        let c = &mut Conn::new(1);
        assert!(ask(c, &o, SetRequest::add(v(1))).await);
        ask(c, &o, SetRequest::add(v(2))).await;
        ask(c, &o, SetRequest::contains(v(1))).await;
        assert_eq!(ask(c, &o, SetRequest::len()).await, 2);
        ask(c, &o, SetRequest::union(vec![v(3)])).await;
        ask(c, &o, SetRequest::intersection(vec![v(1)])).await;
        ask(c, &o, SetRequest::difference(vec![v(1)])).await;
        ask(c, &o, SetRequest::snapshot()).await;
        ask(c, &o, SetRequest::discard(v(9))).await;
        ask(c, &o, SetRequest::remove(v(1))).await;
        ask(c, &o, SetRequest::pop(Some(TypeTag::of::<i64>()))).await;
        ask(c, &o, SetRequest::clear()).await;
    }
}

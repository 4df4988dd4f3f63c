//! [`DictState`]: a dict in insertion order, like Python's `Manager().dict()`.
//!
//! Keys are compared by their encoding and type tag ([`Encoded`]'s
//! equality), so the `i64` 1 and the `u8` 1 are different keys. Entries keep
//! the order their keys were first inserted in, as in Python: setting an
//! existing key keeps its place, removing one closes the gap, and
//! [`DictRequest::PopItem`] takes the last inserted entry.
//!
//! Every request is applied whole before the next one starts, so
//! [`DictRequest::Add`], [`DictRequest::SetDefault`] and the bulk requests
//! ([`DictRequest::Update`], [`DictRequest::GetMany`],
//! [`DictRequest::RemoveMany`]) are atomic with respect to every other
//! client. A large bulk request is applied in slices
//! ([`ObjectContext::in_slices`]), the dict taking no other request
//! meanwhile; a large dict cleared or
//! removed is freed off the actors' thread ([`crate::discard`]).
//!
//! # Types
//!
//! The requests that remove an entry and hand it back
//! ([`DictRequest::Remove`], [`DictRequest::Pop`], [`DictRequest::PopItem`],
//! [`DictRequest::RemoveMany`]) may name the types their caller will decode
//! it as. The dict checks the stored tags first: an entry of other types
//! stays where it is and the request fails with [`ManagerError::WrongType`].
//! A `RemoveMany` checks every entry it would remove before it removes any:
//! one of other types fails it whole, and the dict is unchanged.

use indexmap::IndexMap;
use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::DictRequest;
use manager_core::{Encoded, ManagerError, TypeTag};
use std::borrow::Cow;

use super::list::check_type;
use crate::actor::{ObjectContext, ObjectState};
use crate::discard::discard;
use crate::object::Caller;

/// One dict's entries, in insertion order.
#[derive(Debug, Default)]
pub struct DictState {
    entries: IndexMap<Encoded, Encoded>,
}

/// What the first pass of a `RemoveMany` found: for each key asked, in
/// order, the index of its entry; or the first entry of a wrong type.
#[derive(Debug, Default)]
struct Found {
    at: Vec<Option<usize>>,
    error: Option<ManagerError>,
}

impl DictState {
    /// An empty dict.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one request; `what` names the dict in errors (for example
    /// "dict `cache`").
    ///
    /// # Errors
    ///
    /// [`ManagerError::NoSuchKey`] for a `pop` without default of a missing
    /// key, [`ManagerError::Empty`] for a `popitem` of an empty dict,
    /// [`ManagerError::WrongType`] for a `remove`, `pop` or `popitem` of an
    /// entry stored as other types than the ones expected, and for `add`,
    /// [`ManagerError::WrongType`] if the value is not an integer and
    /// [`ManagerError::Overflow`] if the sum overflows. A failed request
    /// changes nothing.
    pub fn apply(
        &mut self,
        request: DictRequest,
        what: impl Fn() -> String,
    ) -> Result<Reply, ManagerError> {
        Ok(match request {
            DictRequest::Len => Reply::Count(self.entries.len() as u64),
            DictRequest::Get { key } => Reply::MaybeValue(self.entries.get(&key).cloned()),
            DictRequest::Insert { key, value } => {
                Reply::MaybeValue(self.entries.insert(key, value))
            }
            DictRequest::Remove { key, expect } => {
                if let Some(value) = self.entries.get(&key) {
                    check_type(value, expect.as_ref(), &what)?;
                }
                Reply::MaybeValue(self.entries.shift_remove(&key))
            }
            DictRequest::ContainsKey { key } => Reply::Bool(self.entries.contains_key(&key)),
            DictRequest::Keys => Reply::Values(self.entries.keys().cloned().collect()),
            DictRequest::Values => Reply::Values(self.entries.values().cloned().collect()),
            DictRequest::Items => Reply::Pairs(
                self.entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            DictRequest::Update { items } => {
                self.entries.extend(items);
                Reply::Done
            }
            DictRequest::SetDefault { key, default } => {
                Reply::Value(self.entries.entry(key).or_insert(default).clone())
            }
            DictRequest::Pop {
                key,
                default,
                expect,
            } => {
                if let Some(value) = self.entries.get(&key) {
                    check_type(value, expect.as_ref(), &what)?;
                }
                match self.entries.shift_remove(&key) {
                    Some(value) => Reply::Value(value),
                    None => match default {
                        Some(default) => Reply::Value(default),
                        None => return Err(ManagerError::NoSuchKey { what: what() }),
                    },
                }
            }
            DictRequest::PopItem { expect } => {
                let Some((key, value)) = self.entries.last() else {
                    return Err(ManagerError::Empty { what: what() });
                };
                if let Some((key_type, value_type)) = &expect {
                    check_type(key, Some(key_type), &what)?;
                    check_type(value, Some(value_type), &what)?;
                }
                let (key, value) = self.entries.pop().expect("checked non-empty");
                Reply::Pair(key, value)
            }
            DictRequest::Clear => {
                self.discard_entries();
                Reply::Done
            }
            DictRequest::Add {
                key,
                delta,
                absent_as,
            } => {
                let describe = || format!("a value of {}", what());
                let current = match self.entries.get(&key) {
                    Some(value) => Cow::Borrowed(value),
                    None => Cow::Owned(super::zero(absent_as.as_ref(), super::Lazy(describe))?),
                };
                let (stored, sum) = current.checked_add(delta, super::Lazy(describe))?;
                self.entries.insert(key, stored);
                Reply::Integer(sum)
            }
            DictRequest::GetMany { keys } => {
                let mut values = Vec::with_capacity(keys.len());
                self.get_all(&mut values, keys);
                Reply::MaybeValues(values)
            }
            DictRequest::RemoveMany { keys, expect } => {
                let mut found = Found::default();
                self.find_all(&mut found, keys, expect.as_ref(), &what);
                self.remove_found(found)?
            }
        })
    }

    /// Adds each key's value (or `None`) to `values`: a slice of a
    /// `GetMany`.
    fn get_all(&self, values: &mut Vec<Option<Encoded>>, keys: Vec<Encoded>) {
        values.extend(keys.iter().map(|key| self.entries.get(key).cloned()));
    }

    /// Finds each key's entry and checks its value's type, changing
    /// nothing: a slice of a `RemoveMany`'s first pass. After a wrong type,
    /// the other slices are skipped.
    fn find_all(
        &self,
        found: &mut Found,
        keys: Vec<Encoded>,
        expect: Option<&TypeTag>,
        what: impl Fn() -> String,
    ) {
        if found.error.is_some() {
            return;
        }
        for key in &keys {
            let index = match self.entries.get_full(key) {
                Some((index, _, value)) => {
                    if let Err(e) = check_type(value, expect, &what) {
                        found.error = Some(e);
                        return;
                    }
                    Some(index)
                }
                None => None,
            };
            found.at.push(index);
        }
    }

    /// Removes the entries `found`, in one pass over the dict from the
    /// first of them, and replies their values in the order they were
    /// asked for; a key asked again is absent the second time. If `found`
    /// holds an error, removes nothing and returns it.
    fn remove_found(&mut self, found: Found) -> Result<Reply, ManagerError> {
        if let Some(error) = found.error {
            return Err(error);
        }
        let mut values = vec![None; found.at.len()];
        // Each entry with the first place it was asked at, by index.
        let mut entries: Vec<(usize, usize)> = found
            .at
            .into_iter()
            .enumerate()
            .filter_map(|(place, index)| Some((index?, place)))
            .collect();
        entries.sort_unstable();
        entries.dedup_by_key(|(index, _)| *index);
        let Some(&(start, _)) = entries.first() else {
            return Ok(Reply::MaybeValues(values));
        };
        let (mut index, mut next) = (start, 0);
        let removed = self.entries.extract_if(start.., |_, _| {
            let take = entries.get(next).is_some_and(|&(i, _)| i == index);
            index += 1;
            next += usize::from(take);
            take
        });
        let places = entries.iter().map(|&(_, place)| place);
        for ((_, value), place) in removed.zip(places) {
            values[place] = Some(value);
        }
        Ok(Reply::MaybeValues(values))
    }

    /// Empties the dict, freeing its entries off the actors' thread if
    /// there are many.
    fn discard_entries(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        let len = entries.len();
        discard(entries, len);
    }
}

/// The state of a new dict (`ObjectSpec::Dict`).
pub(super) fn dict(_: &super::Making<'_>) -> Result<DictState, ManagerError> {
    Ok(DictState::new())
}

impl ObjectState for DictState {
    type Request = DictRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Items {
                len: self.entries.len() as u64,
            },
            bytes_held: super::bytes_held(self.entries.keys())
                + super::bytes_held(self.entries.values()),
            ..ObjectDetail::default()
        }
    }

    fn handle(&mut self, request: DictRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        let result = match request {
            DictRequest::Update { items } => {
                return ctx.in_slices(
                    self,
                    caller,
                    items,
                    |dict, slice| dict.entries.extend(slice),
                    |_| Ok(Reply::Done),
                );
            }
            DictRequest::GetMany { keys } => {
                let values = Vec::with_capacity(keys.len());
                return ctx.in_slices_with(
                    self,
                    caller,
                    keys,
                    values,
                    |dict, values, slice| dict.get_all(values, slice),
                    |_, values| Ok(Reply::MaybeValues(values)),
                );
            }
            DictRequest::RemoveMany { keys, expect } => {
                // Checked in slices, then removed in one pass over the dict.
                let what = ctx.what();
                let found = Found {
                    at: Vec::with_capacity(keys.len()),
                    error: None,
                };
                return ctx.in_slices_with(
                    self,
                    caller,
                    keys,
                    found,
                    move |dict, found, slice| {
                        dict.find_all(found, slice, expect.as_ref(), || what.clone());
                    },
                    DictState::remove_found,
                );
            }
            request => self.apply(request, || ctx.what()),
        };
        caller.reply(result);
    }

    fn removed(&mut self, _ctx: &mut ObjectContext<'_, Self>) {
        self.discard_entries();
    }
}

#[cfg(test)]
mod tests {
    use manager_core::TypeTag;

    use super::*;
    use manager_core::request::ObjectRequest;

    fn k(s: &str) -> Encoded {
        Encoded::encode(s).unwrap()
    }

    fn v(x: i64) -> Encoded {
        Encoded::encode(&x).unwrap()
    }

    fn ap(dict: &mut DictState, request: DictRequest) -> Result<Reply, ManagerError> {
        dict.apply(request, || "dict `d`".to_owned())
    }

    fn insert(dict: &mut DictState, key: &str, x: i64) -> Reply {
        ap(
            dict,
            DictRequest::Insert {
                key: k(key),
                value: v(x),
            },
        )
        .unwrap()
    }

    fn keys(dict: &mut DictState) -> Vec<Encoded> {
        match ap(dict, DictRequest::Keys) {
            Ok(Reply::Values(keys)) => keys,
            other => panic!("keys: {other:?}"),
        }
    }

    #[test]
    fn insertion_order_survives_overwrite_and_removal() {
        let mut dict = DictState::new();
        assert_eq!(insert(&mut dict, "a", 1), Reply::MaybeValue(None));
        insert(&mut dict, "b", 2);
        insert(&mut dict, "c", 3);
        assert_eq!(insert(&mut dict, "a", 10), Reply::MaybeValue(Some(v(1))));
        assert_eq!(keys(&mut dict), vec![k("a"), k("b"), k("c")]);
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Remove {
                    key: k("b"),
                    expect: None
                }
            ),
            Ok(Reply::MaybeValue(Some(v(2))))
        );
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Remove {
                    key: k("b"),
                    expect: None
                }
            ),
            Ok(Reply::MaybeValue(None))
        );
        insert(&mut dict, "b", 4);
        assert_eq!(keys(&mut dict), vec![k("a"), k("c"), k("b")]);
        assert_eq!(
            ap(&mut dict, DictRequest::Items),
            Ok(Reply::Pairs(vec![
                (k("a"), v(10)),
                (k("c"), v(3)),
                (k("b"), v(4))
            ]))
        );
        assert_eq!(
            ap(&mut dict, DictRequest::Values),
            Ok(Reply::Values(vec![v(10), v(3), v(4)]))
        );
    }

    #[test]
    fn popitem_takes_the_last_inserted() {
        let mut dict = DictState::new();
        insert(&mut dict, "x", 1);
        insert(&mut dict, "y", 2);
        insert(&mut dict, "x", 3);
        assert_eq!(
            ap(&mut dict, DictRequest::PopItem { expect: None }),
            Ok(Reply::Pair(k("y"), v(2)))
        );
        assert_eq!(
            ap(&mut dict, DictRequest::PopItem { expect: None }),
            Ok(Reply::Pair(k("x"), v(3)))
        );
        let err = ap(&mut dict, DictRequest::PopItem { expect: None }).unwrap_err();
        assert_eq!(err.to_string(), "dict `d` is empty");
    }

    #[test]
    fn pop_with_and_without_default() {
        let mut dict = DictState::new();
        insert(&mut dict, "x", 1);
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Pop {
                    key: k("x"),
                    default: None,
                    expect: None,
                }
            ),
            Ok(Reply::Value(v(1)))
        );
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Pop {
                    key: k("x"),
                    default: Some(v(7)),
                    expect: None,
                }
            ),
            Ok(Reply::Value(v(7)))
        );
        let err = ap(
            &mut dict,
            DictRequest::Pop {
                key: k("x"),
                default: None,
                expect: None,
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            ManagerError::NoSuchKey {
                what: "dict `d`".into()
            }
        );
        assert_eq!(ap(&mut dict, DictRequest::Len), Ok(Reply::Count(0)));
    }

    #[test]
    fn removals_of_another_type_leave_the_entry() {
        let mut dict = DictState::new();
        insert(&mut dict, "a", 1);
        insert(&mut dict, "b", 2);
        let text = Some(TypeTag::of::<String>());
        let wrong = |stored: &str, requested: &str| {
            Err(ManagerError::WrongType {
                what: "dict `d`".into(),
                stored: stored.into(),
                requested: requested.into(),
            })
        };
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Remove {
                    key: k("a"),
                    expect: text.clone(),
                }
            ),
            wrong("i64", "alloc::string::String")
        );
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Pop {
                    key: k("a"),
                    default: None,
                    expect: text.clone(),
                }
            ),
            wrong("i64", "alloc::string::String")
        );
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Pop {
                    key: k("a"),
                    default: Some(k("x")),
                    expect: text.clone(),
                }
            ),
            wrong("i64", "alloc::string::String")
        );
        // A wrong value type, then a wrong key type.
        for (key, value, stored, requested) in [
            (
                TypeTag::of::<String>(),
                TypeTag::of::<bool>(),
                "i64",
                "bool",
            ),
            (
                TypeTag::of::<u8>(),
                TypeTag::of::<i64>(),
                "alloc::string::String",
                "u8",
            ),
        ] {
            assert_eq!(
                ap(
                    &mut dict,
                    DictRequest::PopItem {
                        expect: Some((key, value)),
                    }
                ),
                wrong(stored, requested)
            );
        }
        assert_eq!(
            ap(&mut dict, DictRequest::Items),
            Ok(Reply::Pairs(vec![(k("a"), v(1)), (k("b"), v(2))]))
        );
        // Absent keys are not a type question.
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Remove {
                    key: k("zz"),
                    expect: text.clone(),
                }
            ),
            Ok(Reply::MaybeValue(None))
        );
        // The right types take the entries.
        let as_i64 = Some(TypeTag::of::<i64>());
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::Pop {
                    key: k("a"),
                    default: None,
                    expect: as_i64,
                }
            ),
            Ok(Reply::Value(v(1)))
        );
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::PopItem {
                    expect: Some((TypeTag::of::<String>(), TypeTag::of::<i64>())),
                }
            ),
            Ok(Reply::Pair(k("b"), v(2)))
        );
    }

    #[test]
    fn setdefault_update_and_clear() {
        let mut dict = DictState::new();
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::SetDefault {
                    key: k("a"),
                    default: v(1)
                }
            ),
            Ok(Reply::Value(v(1)))
        );
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::SetDefault {
                    key: k("a"),
                    default: v(2)
                }
            ),
            Ok(Reply::Value(v(1)))
        );
        ap(
            &mut dict,
            DictRequest::Update {
                items: vec![(k("b"), v(2)), (k("a"), v(3)), (k("b"), v(4))],
            },
        )
        .unwrap();
        assert_eq!(
            ap(&mut dict, DictRequest::Items),
            Ok(Reply::Pairs(vec![(k("a"), v(3)), (k("b"), v(4))]))
        );
        assert_eq!(
            ap(&mut dict, DictRequest::ContainsKey { key: k("b") }),
            Ok(Reply::Bool(true))
        );
        ap(&mut dict, DictRequest::Clear).unwrap();
        assert_eq!(
            ap(&mut dict, DictRequest::Get { key: k("a") }),
            Ok(Reply::MaybeValue(None))
        );
    }

    #[test]
    fn keys_of_different_types_are_different() {
        let mut dict = DictState::new();
        ap(
            &mut dict,
            DictRequest::Insert {
                key: Encoded::encode(&1_i64).unwrap(),
                value: v(1),
            },
        )
        .unwrap();
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::ContainsKey {
                    key: Encoded::encode(&1_u8).unwrap()
                }
            ),
            Ok(Reply::Bool(false))
        );
    }

    #[test]
    fn add_starts_at_zero_and_refuses_other_types_and_overflow() {
        let mut dict = DictState::new();
        let mut add = |key: &str, delta| {
            ap(
                &mut dict,
                DictRequest::Add {
                    key: k(key),
                    delta,
                    absent_as: None,
                },
            )
        };
        assert_eq!(add("n", 5), Ok(Reply::Integer(5)));
        assert_eq!(add("n", -7), Ok(Reply::Integer(-2)));
        assert_eq!(add("m", i64::MAX), Ok(Reply::Integer(i64::MAX)));
        let err = add("m", 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "adding 1 to a value of dict `d` (now {}) overflows its type `i64`",
                i64::MAX
            )
        );
        ap(
            &mut dict,
            DictRequest::Insert {
                key: k("s"),
                value: k("text"),
            },
        )
        .unwrap();
        let err = ap(
            &mut dict,
            DictRequest::Add {
                key: k("s"),
                delta: 1,
                absent_as: None,
            },
        )
        .unwrap_err();
        assert!(matches!(err, ManagerError::WrongType { .. }), "{err}");
        // An absent entry starts as a 0 of the type asked for.
        let mut add_as = |key: &str, delta, tag: TypeTag| {
            ap(
                &mut dict,
                DictRequest::Add {
                    key: k(key),
                    delta,
                    absent_as: Some(tag),
                },
            )
        };
        assert!(matches!(
            add_as("u", -1, TypeTag::of::<u8>()),
            Err(ManagerError::Overflow { .. })
        ));
        assert_eq!(add_as("u", 3, TypeTag::of::<u8>()), Ok(Reply::Integer(3)));
        assert!(matches!(
            add_as("f", 1, TypeTag::of::<f64>()),
            Err(ManagerError::WrongType { .. })
        ));
        assert_eq!(
            ap(&mut dict, DictRequest::Get { key: k("u") }),
            Ok(Reply::MaybeValue(Some(Encoded::encode(&3_u8).unwrap())))
        );
        // Failed adds changed nothing.
        assert_eq!(
            ap(&mut dict, DictRequest::Get { key: k("m") }),
            Ok(Reply::MaybeValue(Some(v(i64::MAX))))
        );
        assert_eq!(
            ap(&mut dict, DictRequest::Get { key: k("s") }),
            Ok(Reply::MaybeValue(Some(k("text"))))
        );
    }

    #[test]
    fn get_many_and_remove_many_answer_in_the_order_asked() {
        let mut dict = DictState::new();
        for (key, x) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
            insert(&mut dict, key, x);
        }
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::GetMany {
                    keys: vec![k("c"), k("zz"), k("a"), k("c")],
                }
            ),
            Ok(Reply::MaybeValues(vec![
                Some(v(3)),
                None,
                Some(v(1)),
                Some(v(3))
            ]))
        );
        // A key asked twice is absent the second time.
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::RemoveMany {
                    keys: vec![k("c"), k("zz"), k("a"), k("c")],
                    expect: Some(TypeTag::of::<i64>()),
                }
            ),
            Ok(Reply::MaybeValues(vec![Some(v(3)), None, Some(v(1)), None]))
        );
        // The others keep their order.
        assert_eq!(keys(&mut dict), vec![k("b"), k("d")]);
        assert_eq!(
            ap(
                &mut dict,
                DictRequest::RemoveMany {
                    keys: vec![],
                    expect: None,
                }
            ),
            Ok(Reply::MaybeValues(vec![]))
        );
    }

    #[test]
    fn remove_many_with_one_wrong_type_removes_nothing() {
        let mut dict = DictState::new();
        insert(&mut dict, "a", 1);
        ap(
            &mut dict,
            DictRequest::Insert {
                key: k("s"),
                value: k("text"),
            },
        )
        .unwrap();
        insert(&mut dict, "b", 2);
        let err = ap(
            &mut dict,
            DictRequest::RemoveMany {
                keys: vec![k("a"), k("s"), k("b")],
                expect: Some(TypeTag::of::<i64>()),
            },
        )
        .unwrap_err();
        assert!(matches!(err, ManagerError::WrongType { .. }), "{err}");
        assert_eq!(keys(&mut dict), vec![k("a"), k("s"), k("b")]);
    }

    /// Bulk reads and removals of several slices land whole; a removal
    /// whose wrong type is in its last slice removes nothing.
    #[actix::test]
    async fn large_bulk_reads_and_removals_land_whole() {
        use crate::actor::BULK_SLICE;
        use crate::objects::testing::{Conn, Harness};
        use manager_core::ObjectSpec;

        let (_harness, dict) = Harness::start(ObjectSpec::Dict).await;
        let mut conn = Conn::new(1);
        let n = BULK_SLICE * 2 + 3;
        let items: Vec<(Encoded, Encoded)> = (0..n as i64).map(|i| (v(i), v(i))).collect();
        // A bulk request of several slices is answered after a few turns.
        let mut call = async |request| {
            let id = conn.send(&dict, ObjectRequest::Dict(request)).await;
            conn.later(id).await
        };
        assert_eq!(call(DictRequest::Update { items }).await, Ok(Reply::Done));
        // Every key, an absent one and then a text: the last slice fails.
        let mut asked: Vec<Encoded> = (0..n as i64).map(v).collect();
        asked.push(v(-1));
        let mut wrong = asked.clone();
        wrong.push(k("text"));
        call(DictRequest::Insert {
            key: k("text"),
            value: k("text"),
        })
        .await
        .unwrap();
        let err = call(DictRequest::RemoveMany {
            keys: wrong,
            expect: Some(TypeTag::of::<i64>()),
        })
        .await
        .unwrap_err();
        assert!(matches!(err, ManagerError::WrongType { .. }), "{err}");
        assert_eq!(call(DictRequest::Len).await, Ok(Reply::Count(n as u64 + 1)));

        let mut expected: Vec<Option<Encoded>> = (0..n as i64).map(|i| Some(v(i))).collect();
        expected.push(None);
        let read = call(DictRequest::GetMany {
            keys: asked.clone(),
        })
        .await;
        assert!(read == Ok(Reply::MaybeValues(expected.clone())));
        let removed = call(DictRequest::RemoveMany {
            keys: asked,
            expect: Some(TypeTag::of::<i64>()),
        })
        .await;
        assert!(removed == Ok(Reply::MaybeValues(expected)));
        assert_eq!(
            call(DictRequest::Items).await,
            Ok(Reply::Pairs(vec![(k("text"), k("text"))]))
        );
    }

    /// A large update is applied in slices and lands whole, later entries
    /// of a key winning as in one `extend`.
    #[actix::test]
    async fn a_large_update_lands_whole() {
        use crate::actor::BULK_SLICE;
        use crate::objects::testing::{Conn, Harness};
        use manager_core::ObjectSpec;

        let (_harness, dict) = Harness::start(ObjectSpec::Dict).await;
        let mut conn = Conn::new(1);
        let n = BULK_SLICE * 2 + 3;
        let mut items: Vec<(Encoded, Encoded)> = (0..n as i64).map(|i| (v(i), v(i))).collect();
        // The first key again, last: its value is this one, its place the first.
        items.push((v(0), v(-1)));
        let ids = conn
            .send_batch(
                &dict,
                vec![
                    ObjectRequest::Dict(DictRequest::Update { items }),
                    ObjectRequest::Dict(DictRequest::Len),
                    ObjectRequest::Dict(DictRequest::Get { key: v(0) }),
                ],
            )
            .await;
        for (id, expected) in [
            (ids[0], Reply::Done),
            (ids[1], Reply::Count(n as u64)),
            (ids[2], Reply::MaybeValue(Some(v(-1)))),
        ] {
            let next = conn.next().await;
            assert_eq!((next.id, next.result), (id, Ok(expected)));
        }
        let keys = conn
            .call(&dict, ObjectRequest::Dict(DictRequest::Keys))
            .await;
        let expected: Vec<Encoded> = (0..n as i64).map(v).collect();
        assert!(keys == Ok(Reply::Values(expected)));
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{DictRequest};
        use manager_core::{ObjectSpec, TypeTag};

        use crate::objects::testing::{Conn, Harness, ask, int as v};

        let (_h, o) = Harness::start(ObjectSpec::Dict).await;
        let c = &mut Conn::new(1);
        let int = || Some(TypeTag::of::<i64>());
        ask(c, &o, DictRequest::insert(v(1), v(10))).await;
        ask(
            c,
            &o,
            DictRequest::update(vec![(v(2), v(20)), (v(3), v(30))]),
        )
        .await;
        ask(c, &o, DictRequest::get(v(1))).await;
        assert_eq!(ask(c, &o, DictRequest::len()).await, 3);
        ask(c, &o, DictRequest::contains_key(v(1))).await;
        ask(c, &o, DictRequest::keys()).await;
        ask(c, &o, DictRequest::values()).await;
        ask(c, &o, DictRequest::items()).await;
        ask(c, &o, DictRequest::set_default(v(4), v(40))).await;
        let read = ask(c, &o, DictRequest::get_many(vec![v(1), v(9)])).await;
        assert_eq!(read, [Some(v(10)), None]);
        let removed = ask(c, &o, DictRequest::remove_many(vec![v(3), v(9)], int())).await;
        assert_eq!(removed, [Some(v(30)), None]);
        assert_eq!(ask(c, &o, DictRequest::add(v(5), 2, int())).await, 2);
        ask(c, &o, DictRequest::remove(v(5), int())).await;
        ask(c, &o, DictRequest::pop(v(4), None, int())).await;
        ask(
            c,
            &o,
            DictRequest::pop_item(Some((TypeTag::of::<i64>(), TypeTag::of::<i64>()))),
        )
        .await;
        ask(c, &o, DictRequest::clear()).await;
    }
}

//! [`NamespaceState`]: a bag of named attributes, like Python's
//! `Manager().Namespace()`, plus the atomic updates Python lacks.
//!
//! Every request is applied whole before the next one starts, so
//! [`NamespaceRequest::Add`], [`NamespaceRequest::SetIfAbsent`] and
//! [`NamespaceRequest::CompareAndSwap`] are atomic with respect to every other
//! client: four processes doing a thousand adds each end at exactly 4,000.
//! The bulk requests ([`NamespaceRequest::Update`],
//! [`NamespaceRequest::GetMany`]) are applied whole too: a large one in
//! slices ([`ObjectContext::in_slices`]), the namespace taking no other
//! request meanwhile.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::NamespaceRequest;
use manager_core::{Encoded, ManagerError};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// One namespace's attributes.
#[derive(Debug, Default)]
pub struct NamespaceState {
    attributes: BTreeMap<String, Encoded>,
}

impl NamespaceState {
    /// An empty namespace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one request to the namespace called `name`.
    pub fn apply(&mut self, request: NamespaceRequest, name: &str) -> Result<Reply, ManagerError> {
        let describe = |attribute: &str| format!("attribute `{attribute}` of namespace `{name}`");
        Ok(match request {
            NamespaceRequest::Set { attribute, value } => {
                self.attributes.insert(attribute, value);
                Reply::Done
            }
            NamespaceRequest::Get { attribute } => match self.attributes.get(&attribute) {
                Some(value) => Reply::Value(value.clone()),
                None => {
                    return Err(ManagerError::NoSuchAttribute {
                        namespace: name.to_owned(),
                        attribute,
                    });
                }
            },
            NamespaceRequest::Delete { attribute } => {
                Reply::Bool(self.attributes.remove(&attribute).is_some())
            }
            NamespaceRequest::Contains { attribute } => {
                Reply::Bool(self.attributes.contains_key(&attribute))
            }
            NamespaceRequest::Names => Reply::Names(self.attributes.keys().cloned().collect()),
            NamespaceRequest::Snapshot => Reply::Attributes(
                self.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            NamespaceRequest::SetIfAbsent { attribute, value } => {
                match self.attributes.entry(attribute) {
                    Entry::Occupied(_) => Reply::Bool(false),
                    Entry::Vacant(slot) => {
                        slot.insert(value);
                        Reply::Bool(true)
                    }
                }
            }
            NamespaceRequest::CompareAndSwap {
                attribute,
                expected,
                new,
            } => {
                let current = self.attributes.get(&attribute);
                let matches = match (current, &expected) {
                    (None, None) => true,
                    (Some(current), Some(expected)) => current.matches(expected),
                    _ => false,
                };
                if matches {
                    self.attributes.insert(attribute, new);
                    Reply::Swapped {
                        swapped: true,
                        current: None,
                    }
                } else {
                    Reply::Swapped {
                        swapped: false,
                        current: current.cloned(),
                    }
                }
            }
            NamespaceRequest::Add { attribute, delta } => {
                let (stored, sum) = super::add(
                    self.attributes.get(&attribute),
                    delta,
                    super::Lazy(|| describe(&attribute)),
                )?;
                self.attributes.insert(attribute, stored);
                Reply::Integer(sum)
            }
            NamespaceRequest::Update { items } => {
                self.set_all(items);
                Reply::Done
            }
            NamespaceRequest::GetMany { attributes } => {
                let mut values = Vec::with_capacity(attributes.len());
                self.get_all(&mut values, attributes);
                Reply::MaybeValues(values)
            }
        })
    }

    /// Sets each attribute in turn: a slice of an `Update`.
    fn set_all(&mut self, items: Vec<(String, Encoded)>) {
        self.attributes.extend(items);
    }

    /// Adds each attribute's value (or `None`) to `values`: a slice of a
    /// `GetMany`.
    fn get_all(&self, values: &mut Vec<Option<Encoded>>, attributes: Vec<String>) {
        values.extend(
            attributes
                .iter()
                .map(|attribute| self.attributes.get(attribute).cloned()),
        );
    }
}

/// The state of a new namespace (`ObjectSpec::Namespace`).
pub(super) fn namespace(_: &super::Making<'_>) -> Result<NamespaceState, ManagerError> {
    Ok(NamespaceState::new())
}

impl ObjectState for NamespaceState {
    type Request = NamespaceRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Items {
                len: self.attributes.len() as u64,
            },
            bytes_held: self
                .attributes
                .iter()
                .map(|(name, value)| (name.len() + value.heap_size()) as u64)
                .sum(),
            ..ObjectDetail::default()
        }
    }

    fn handle(
        &mut self,
        request: NamespaceRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        match request {
            NamespaceRequest::Update { items } => {
                ctx.in_slices(self, caller, items, NamespaceState::set_all, |_| {
                    Ok(Reply::Done)
                })
            }
            NamespaceRequest::GetMany { attributes } => {
                let values = Vec::with_capacity(attributes.len());
                ctx.in_slices_with(
                    self,
                    caller,
                    attributes,
                    values,
                    |ns, values, slice| ns.get_all(values, slice),
                    |_, values| Ok(Reply::MaybeValues(values)),
                );
            }
            request => caller.reply(self.apply(request, ctx.name().as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHAT: &str = "cfg";

    fn ns() -> NamespaceState {
        NamespaceState::new()
    }

    impl NamespaceState {
        fn ap(&mut self, request: NamespaceRequest) -> Result<Reply, ManagerError> {
            self.apply(request, WHAT)
        }
    }

    fn v(x: i64) -> Encoded {
        Encoded::encode(&x).unwrap()
    }

    #[test]
    fn set_get_delete() {
        let mut ns = ns();
        ns.ap(NamespaceRequest::Set {
            attribute: "x".into(),
            value: v(1),
        })
        .unwrap();
        assert_eq!(
            ns.ap(NamespaceRequest::Get {
                attribute: "x".into()
            }),
            Ok(Reply::Value(v(1)))
        );
        assert_eq!(
            ns.ap(NamespaceRequest::Delete {
                attribute: "x".into()
            }),
            Ok(Reply::Bool(true))
        );
        assert!(matches!(
            ns.ap(NamespaceRequest::Get {
                attribute: "x".into()
            }),
            Err(ManagerError::NoSuchAttribute { .. })
        ));
    }

    #[test]
    fn add_starts_at_zero_and_refuses_other_types_and_overflow() {
        let mut ns = ns();
        assert_eq!(
            ns.ap(NamespaceRequest::Add {
                attribute: "n".into(),
                delta: 5
            }),
            Ok(Reply::Integer(5))
        );
        assert_eq!(
            ns.ap(NamespaceRequest::Add {
                attribute: "n".into(),
                delta: -7
            }),
            Ok(Reply::Integer(-2))
        );
        ns.ap(NamespaceRequest::Set {
            attribute: "s".into(),
            value: Encoded::encode("text").unwrap(),
        })
        .unwrap();
        assert!(matches!(
            ns.ap(NamespaceRequest::Add {
                attribute: "s".into(),
                delta: 1
            }),
            Err(ManagerError::WrongType { .. })
        ));
        ns.ap(NamespaceRequest::Set {
            attribute: "m".into(),
            value: v(i64::MAX),
        })
        .unwrap();
        assert!(matches!(
            ns.ap(NamespaceRequest::Add {
                attribute: "m".into(),
                delta: 1
            }),
            Err(ManagerError::Overflow { .. })
        ));
    }

    #[test]
    fn update_sets_in_order_and_get_many_reads_absent_as_none() {
        let mut ns = ns();
        ns.ap(NamespaceRequest::Update {
            items: vec![("a".into(), v(1)), ("b".into(), v(2)), ("a".into(), v(3))],
        })
        .unwrap();
        assert_eq!(
            ns.ap(NamespaceRequest::GetMany {
                attributes: vec!["b".into(), "zz".into(), "a".into(), "b".into()],
            }),
            Ok(Reply::MaybeValues(vec![
                Some(v(2)),
                None,
                Some(v(3)),
                Some(v(2))
            ]))
        );
        assert_eq!(
            ns.ap(NamespaceRequest::GetMany { attributes: vec![] }),
            Ok(Reply::MaybeValues(vec![]))
        );
    }

    /// A bulk request of several slices lands whole, and the next
    /// request of the same batch sees all of it.
    #[actix::test]
    async fn large_bulk_requests_land_whole() {
        use crate::actor::BULK_SLICE;
        use crate::objects::testing::{Conn, Harness};
        use manager_core::ObjectSpec;
        use manager_core::request::ObjectRequest;

        let (_harness, ns) = Harness::start(ObjectSpec::Namespace).await;
        let mut conn = Conn::new(1);
        let n = BULK_SLICE * 2 + 3;
        let name = |i: usize| format!("a{i}");
        let mut items: Vec<(String, Encoded)> = (0..n).map(|i| (name(i), v(i as i64))).collect();
        // The first name again, last: it wins.
        items.push((name(0), v(-1)));
        let mut asked: Vec<String> = (0..n).map(name).collect();
        asked.push("absent".into());
        let ids = conn
            .send_batch(
                &ns,
                vec![
                    ObjectRequest::Namespace(NamespaceRequest::Update { items }),
                    ObjectRequest::Namespace(NamespaceRequest::GetMany { attributes: asked }),
                ],
            )
            .await;
        let done = conn.next().await;
        assert_eq!((done.id, done.result), (ids[0], Ok(Reply::Done)));
        let read = conn.next().await;
        assert_eq!(read.id, ids[1]);
        let Ok(Reply::MaybeValues(values)) = read.result else {
            panic!("get_many answered {:?}", read.result)
        };
        let mut expected: Vec<Option<Encoded>> = (0..n).map(|i| Some(v(i as i64))).collect();
        expected[0] = Some(v(-1));
        expected.push(None);
        assert!(values == expected, "{} values read", values.len());
    }

    #[test]
    fn compare_and_swap_and_set_if_absent() {
        let mut ns = ns();
        let swap = |ns: &mut NamespaceState, expected: Option<Encoded>, new| {
            ns.ap(NamespaceRequest::CompareAndSwap {
                attribute: "x".into(),
                expected,
                new,
            })
        };
        assert_eq!(
            swap(&mut ns, None, v(1)),
            Ok(Reply::Swapped {
                swapped: true,
                current: None
            })
        );
        assert_eq!(
            swap(&mut ns, None, v(2)),
            Ok(Reply::Swapped {
                swapped: false,
                current: Some(v(1))
            })
        );
        assert_eq!(
            swap(&mut ns, Some(v(1)), v(3)),
            Ok(Reply::Swapped {
                swapped: true,
                current: None
            })
        );
        assert_eq!(
            ns.ap(NamespaceRequest::SetIfAbsent {
                attribute: "x".into(),
                value: v(9)
            }),
            Ok(Reply::Bool(false))
        );
        assert_eq!(
            ns.ap(NamespaceRequest::SetIfAbsent {
                attribute: "y".into(),
                value: v(9)
            }),
            Ok(Reply::Bool(true))
        );
        assert_eq!(
            ns.ap(NamespaceRequest::Names),
            Ok(Reply::Names(vec!["x".into(), "y".into()]))
        );
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{NamespaceRequest};
        use manager_core::ObjectSpec;

        use crate::objects::testing::{Conn, Harness, ask, int as v};

        let (_h, o) = Harness::start(ObjectSpec::Namespace).await;
        let c = &mut Conn::new(1);
        let a = || "a".to_owned();
        ask(c, &o, NamespaceRequest::set(a(), v(1))).await;
        ask(c, &o, NamespaceRequest::get(a())).await;
        ask(c, &o, NamespaceRequest::contains(a())).await;
        ask(c, &o, NamespaceRequest::names()).await;
        ask(c, &o, NamespaceRequest::snapshot()).await;
        ask(c, &o, NamespaceRequest::set_if_absent("b".into(), v(2))).await;
        ask(c, &o, NamespaceRequest::compare_and_swap(a(), None, v(3))).await;
        assert_eq!(ask(c, &o, NamespaceRequest::add(a(), 1)).await, 2);
        ask(c, &o, NamespaceRequest::update(vec![("c".into(), v(4))])).await;
        let read = ask(c, &o, NamespaceRequest::get_many(vec![a(), "zz".into()])).await;
        assert_eq!(read, [Some(v(2)), None]);
        assert!(ask(c, &o, NamespaceRequest::delete(a())).await);
    }
}

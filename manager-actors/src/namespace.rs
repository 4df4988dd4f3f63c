//! [`NamespaceActor`]: a bag of named attributes, like Python's
//! `Manager().Namespace()`, plus the atomic updates Python lacks.
//!
//! Every request is applied whole before the next one starts, so
//! [`NamespaceRequest::Add`], [`NamespaceRequest::SetIfAbsent`] and
//! [`NamespaceRequest::CompareAndSwap`] are atomic with respect to every other
//! client: four processes doing a thousand adds each end at exactly 4,000.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use actix::{Actor, Context, Handler};
use manager_core::reply::{NamespaceReply, Reply};
use manager_core::request::{NamespaceRequest, ObjectRequest};
use manager_core::{ManagerError, ObjectId, ObjectKind, ObjectName, Value};

use crate::object::{MAILBOX_CAPACITY, ObjectBatch, SharedStats, StopObject};

/// The actor that owns one namespace's attributes.
#[derive(Debug)]
pub struct NamespaceActor {
    id: ObjectId,
    name: ObjectName,
    attributes: BTreeMap<String, Value>,
    stats: SharedStats,
}

impl NamespaceActor {
    /// An empty namespace.
    pub fn new(id: ObjectId, name: ObjectName, stats: SharedStats) -> Self {
        NamespaceActor {
            id,
            name,
            attributes: BTreeMap::new(),
            stats,
        }
    }

    fn describe(&self, attribute: &str) -> String {
        format!("attribute `{attribute}` of namespace `{}`", self.name)
    }

    /// Applies one request to the attributes.
    pub fn apply(&mut self, request: NamespaceRequest) -> Result<NamespaceReply, ManagerError> {
        use NamespaceReply as R;
        Ok(match request {
            NamespaceRequest::Set { attribute, value } => {
                self.attributes.insert(attribute, value);
                R::Done
            }
            NamespaceRequest::Get { attribute } => match self.attributes.get(&attribute) {
                Some(value) => R::Value(value.clone()),
                None => {
                    return Err(ManagerError::NoSuchAttribute {
                        namespace: self.name.to_string(),
                        attribute,
                    });
                }
            },
            NamespaceRequest::Delete { attribute } => {
                R::Bool(self.attributes.remove(&attribute).is_some())
            }
            NamespaceRequest::Contains { attribute } => {
                R::Bool(self.attributes.contains_key(&attribute))
            }
            NamespaceRequest::Names => R::Names(self.attributes.keys().cloned().collect()),
            NamespaceRequest::Snapshot => R::Snapshot(
                self.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            NamespaceRequest::SetIfAbsent { attribute, value } => {
                match self.attributes.entry(attribute) {
                    Entry::Occupied(_) => R::Bool(false),
                    Entry::Vacant(slot) => {
                        slot.insert(value);
                        R::Bool(true)
                    }
                }
            }
            NamespaceRequest::CompareAndSwap {
                attribute,
                expected,
                new,
            } => {
                let current = self.attributes.get(&attribute);
                if current == expected.as_ref() {
                    self.attributes.insert(attribute, new);
                    R::Swapped {
                        swapped: true,
                        current: None,
                    }
                } else {
                    R::Swapped {
                        swapped: false,
                        current: current.cloned(),
                    }
                }
            }
            NamespaceRequest::Add { attribute, delta } => {
                let what = self.describe(&attribute);
                let current = match self.attributes.get(&attribute) {
                    Some(value) => value.decode::<i64>(&what)?,
                    None => 0,
                };
                let sum = current.checked_add(delta).ok_or(ManagerError::Overflow {
                    what,
                    current,
                    delta,
                })?;
                let encoded =
                    Value::encode(&sum).map_err(|e| ManagerError::BadRequest(e.to_string()))?;
                self.attributes.insert(attribute, encoded);
                R::Integer(sum)
            }
        })
    }
}

impl Actor for NamespaceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        tracing::debug!(id = %self.id, name = %self.name, "namespace started");
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        tracing::debug!(id = %self.id, name = %self.name, "namespace stopped");
    }
}

impl Handler<ObjectBatch> for NamespaceActor {
    type Result = ();

    fn handle(&mut self, batch: ObjectBatch, _ctx: &mut Self::Context) {
        self.stats.add_handled(batch.calls.len() as u64);
        for call in batch.calls {
            let result = match call.op {
                ObjectRequest::Namespace(request) => self.apply(request).map(Reply::Namespace),
                #[allow(unreachable_patterns)]
                other => Err(ManagerError::WrongKind {
                    id: self.id,
                    actual: ObjectKind::Namespace,
                    requested: other.kind(),
                }),
            };
            batch.replies.send(call.id, result);
        }
    }
}

impl Handler<StopObject> for NamespaceActor {
    type Result = ();

    fn handle(&mut self, _msg: StopObject, ctx: &mut Self::Context) {
        use actix::ActorContext;
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns() -> NamespaceActor {
        NamespaceActor::new(
            ObjectId(1),
            ObjectName::new("cfg").unwrap(),
            SharedStats::default(),
        )
    }

    fn v(x: i64) -> Value {
        Value::encode(&x).unwrap()
    }

    #[test]
    fn set_get_delete() {
        let mut ns = ns();
        ns.apply(NamespaceRequest::Set {
            attribute: "x".into(),
            value: v(1),
        })
        .unwrap();
        assert_eq!(
            ns.apply(NamespaceRequest::Get {
                attribute: "x".into()
            }),
            Ok(NamespaceReply::Value(v(1)))
        );
        assert_eq!(
            ns.apply(NamespaceRequest::Delete {
                attribute: "x".into()
            }),
            Ok(NamespaceReply::Bool(true))
        );
        assert!(matches!(
            ns.apply(NamespaceRequest::Get {
                attribute: "x".into()
            }),
            Err(ManagerError::NoSuchAttribute { .. })
        ));
    }

    #[test]
    fn add_starts_at_zero_and_refuses_other_types_and_overflow() {
        let mut ns = ns();
        assert_eq!(
            ns.apply(NamespaceRequest::Add {
                attribute: "n".into(),
                delta: 5
            }),
            Ok(NamespaceReply::Integer(5))
        );
        assert_eq!(
            ns.apply(NamespaceRequest::Add {
                attribute: "n".into(),
                delta: -7
            }),
            Ok(NamespaceReply::Integer(-2))
        );
        ns.apply(NamespaceRequest::Set {
            attribute: "s".into(),
            value: Value::encode("text").unwrap(),
        })
        .unwrap();
        assert!(matches!(
            ns.apply(NamespaceRequest::Add {
                attribute: "s".into(),
                delta: 1
            }),
            Err(ManagerError::WrongType { .. })
        ));
        ns.apply(NamespaceRequest::Set {
            attribute: "m".into(),
            value: v(i64::MAX),
        })
        .unwrap();
        assert!(matches!(
            ns.apply(NamespaceRequest::Add {
                attribute: "m".into(),
                delta: 1
            }),
            Err(ManagerError::Overflow { .. })
        ));
    }

    #[test]
    fn compare_and_swap_and_set_if_absent() {
        let mut ns = ns();
        let swap = |ns: &mut NamespaceActor, expected: Option<Value>, new| {
            ns.apply(NamespaceRequest::CompareAndSwap {
                attribute: "x".into(),
                expected,
                new,
            })
        };
        assert_eq!(
            swap(&mut ns, None, v(1)),
            Ok(NamespaceReply::Swapped {
                swapped: true,
                current: None
            })
        );
        assert_eq!(
            swap(&mut ns, None, v(2)),
            Ok(NamespaceReply::Swapped {
                swapped: false,
                current: Some(v(1))
            })
        );
        assert_eq!(
            swap(&mut ns, Some(v(1)), v(3)),
            Ok(NamespaceReply::Swapped {
                swapped: true,
                current: None
            })
        );
        assert_eq!(
            ns.apply(NamespaceRequest::SetIfAbsent {
                attribute: "x".into(),
                value: v(9)
            }),
            Ok(NamespaceReply::Bool(false))
        );
        assert_eq!(
            ns.apply(NamespaceRequest::SetIfAbsent {
                attribute: "y".into(),
                value: v(9)
            }),
            Ok(NamespaceReply::Bool(true))
        );
        assert_eq!(
            ns.apply(NamespaceRequest::Names),
            Ok(NamespaceReply::Names(vec!["x".into(), "y".into()]))
        );
    }
}

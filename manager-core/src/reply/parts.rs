//! Replies that come in several frames: a list too long for one.
//!
//! A reply that is a list (values, values or nothing, pairs, names,
//! attributes, the registry's listing, an inspection snapshot) grows with
//! what the manager holds, and may be longer than a frame may be. The manager then sends it as several
//! frames, all with the id of the request they answer:
//!
//! 1. one or more [`Reply::More`] frames, each with a [`Part`]: the next
//!    items of a list, in order;
//! 2. last, the reply itself with its lists empty (its other fields, such as
//!    a version or a snapshot's totals, are as they were).
//!
//! The client joins them with [`Reply::after_parts`]. If the last frame is
//! an error, the request failed and the parts before it are dropped.
//!
//! # Why parts, not one big frame
//!
//! A frame is read whole before it is decoded, so its limit is what bounds
//! each side's buffers. Cutting a long reply into parts also lets the
//! manager encode one part at a time, with other connections served in
//! between, and hold only that part's bytes.
//!
//! # Consistency
//!
//! The parts are cut from one reply, taken by its object at one moment: a
//! reply in parts is as consistent as a reply in one frame.

use std::vec;

use serde::{Deserialize, Serialize};

use super::{RegistryReply, Reply};
use crate::codec;
use crate::inspect::{ConnectionReport, ObjectReport};
use crate::{Encoded, reply::ObjectSummary};

/// The items one [`Reply::More`] frame carries, of the list they belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part {
    /// Of [`Reply::Values`] or [`Reply::Versioned`].
    Values(Vec<Encoded>),
    /// Of [`Reply::Pairs`].
    Pairs(Vec<(Encoded, Encoded)>),
    /// Of [`Reply::Names`].
    Names(Vec<String>),
    /// Of [`Reply::Attributes`].
    Attributes(Vec<(String, Encoded)>),
    /// Of [`RegistryReply::Objects`].
    Objects(Vec<ObjectSummary>),
    /// Of a snapshot's [`objects`](crate::inspect::ManagerSnapshot::objects).
    ObjectReports(Vec<ObjectReport>),
    /// Of a snapshot's
    /// [`connections`](crate::inspect::ManagerSnapshot::connections).
    Connections(Vec<ConnectionReport>),
    /// Of [`Reply::MaybeValues`].
    MaybeValues(Vec<Option<Encoded>>),
}

impl Part {
    /// How many items it holds.
    pub fn len(&self) -> usize {
        match self {
            Part::Values(v) => v.len(),
            Part::Pairs(v) => v.len(),
            Part::Names(v) => v.len(),
            Part::Attributes(v) => v.len(),
            Part::Objects(v) => v.len(),
            Part::ObjectReports(v) => v.len(),
            Part::Connections(v) => v.len(),
            Part::MaybeValues(v) => v.len(),
        }
    }

    /// Whether it holds no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kind(&self) -> &'static str {
        match self {
            Part::Values(_) => "values",
            Part::Pairs(_) => "pairs",
            Part::Names(_) => "names",
            Part::Attributes(_) => "attributes",
            Part::Objects(_) => "objects",
            Part::ObjectReports(_) => "object reports",
            Part::Connections(_) => "connections",
            Part::MaybeValues(_) => "maybe values",
        }
    }
}

/// Parts that do not belong to the reply they came before.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a part of {part} came before a reply of shape {reply}")]
pub struct PartsMismatch {
    /// What the misplaced part held.
    pub part: &'static str,
    /// The reply's shape.
    pub reply: &'static str,
}

/// One list of a reply being cut, with the items not yet taken.
#[derive(Debug)]
enum List {
    Values(vec::IntoIter<Encoded>),
    Pairs(vec::IntoIter<(Encoded, Encoded)>),
    Names(vec::IntoIter<String>),
    Attributes(vec::IntoIter<(String, Encoded)>),
    Objects(vec::IntoIter<ObjectSummary>),
    ObjectReports(vec::IntoIter<ObjectReport>),
    Connections(vec::IntoIter<ConnectionReport>),
    MaybeValues(vec::IntoIter<Option<Encoded>>),
}

impl List {
    fn is_empty(&self) -> bool {
        match self {
            List::Values(i) => i.len() == 0,
            List::Pairs(i) => i.len() == 0,
            List::Names(i) => i.len() == 0,
            List::Attributes(i) => i.len() == 0,
            List::Objects(i) => i.len() == 0,
            List::ObjectReports(i) => i.len() == 0,
            List::Connections(i) => i.len() == 0,
            List::MaybeValues(i) => i.len() == 0,
        }
    }

    fn take(&mut self, max_bytes: usize) -> Part {
        match self {
            List::Values(i) => Part::Values(take(i, max_bytes)),
            List::Pairs(i) => Part::Pairs(take(i, max_bytes)),
            List::Names(i) => Part::Names(take(i, max_bytes)),
            List::Attributes(i) => Part::Attributes(take(i, max_bytes)),
            List::Objects(i) => Part::Objects(take(i, max_bytes)),
            List::ObjectReports(i) => Part::ObjectReports(take(i, max_bytes)),
            List::Connections(i) => Part::Connections(take(i, max_bytes)),
            List::MaybeValues(i) => Part::MaybeValues(take(i, max_bytes)),
        }
    }
}

/// The most items a part holds, however small: a part is encoded without
/// a pause, and its items are sized one by one.
pub const MAX_PART_ITEMS: usize = 4096;

/// Takes items from the front of `items` while they encode to at most
/// `max_bytes` together (and are at most [`MAX_PART_ITEMS`]), and at least
/// one.
fn take<T: Serialize>(items: &mut vec::IntoIter<T>, max_bytes: usize) -> Vec<T> {
    let mut size = 0;
    let mut count = 0;
    for item in items.as_slice().iter().take(MAX_PART_ITEMS) {
        // An item that cannot be encoded fails when its part is encoded.
        let len = codec::encoded_len(item).unwrap_or(0);
        if count > 0 && size + len > max_bytes {
            break;
        }
        size += len;
        count += 1;
    }
    items.by_ref().take(count).collect()
}

/// A list-shaped reply being cut into [`Part`]s: the manager's side of
/// [`parts`](self).
///
/// # Examples
///
/// ```
/// use manager_core::Encoded;
/// use manager_core::reply::{Part, Reply};
///
/// let values: Vec<Encoded> = (0..1000_u32).map(|i| Encoded::encode(&i).unwrap()).collect();
/// let mut cut = Reply::Values(values.clone()).into_parts();
/// let mut parts = Vec::new();
/// while let Some(part) = cut.next_part(512) {
///     parts.push(part);
/// }
/// assert!(parts.len() > 1);
/// let last = cut.into_last();
/// assert_eq!(last, Reply::Values(Vec::new()));
/// assert_eq!(last.after_parts(parts).unwrap(), Reply::Values(values));
/// ```
#[derive(Debug)]
pub struct ReplyParts {
    /// The reply with its lists taken out.
    last: Reply,
    /// Its lists, in the order they are sent; the front one is being cut.
    lists: std::collections::VecDeque<List>,
}

impl ReplyParts {
    /// The next part: items of at most `max_bytes` encoded together (and at
    /// most [`MAX_PART_ITEMS`]), or one item if that alone is larger; `None`
    /// once every item was taken.
    pub fn next_part(&mut self, max_bytes: usize) -> Option<Part> {
        while self.lists.front().is_some_and(List::is_empty) {
            self.lists.pop_front();
        }
        let list = self.lists.front_mut()?;
        Some(list.take(max_bytes))
    }

    /// The frame that ends the reply: the reply with its lists empty. Items
    /// not taken by [`next_part`](Self::next_part) are dropped.
    pub fn into_last(self) -> Reply {
        self.last
    }
}

impl Reply {
    /// Whether this reply is a list that may be sent in parts.
    pub fn comes_in_parts(&self) -> bool {
        matches!(
            self,
            Reply::Values(_)
                | Reply::MaybeValues(_)
                | Reply::Pairs(_)
                | Reply::Names(_)
                | Reply::Attributes(_)
                | Reply::Versioned { .. }
                | Reply::Registry(RegistryReply::Objects(_) | RegistryReply::Snapshot(_))
        )
    }

    /// Starts cutting this reply into parts. A reply that is not a list
    /// (see [`comes_in_parts`](Self::comes_in_parts)) has no parts: it is
    /// its own last frame.
    pub fn into_parts(self) -> ReplyParts {
        let mut lists = std::collections::VecDeque::with_capacity(2);
        let last = match self {
            Reply::Values(values) => {
                lists.push_back(List::Values(values.into_iter()));
                Reply::Values(Vec::new())
            }
            Reply::MaybeValues(values) => {
                lists.push_back(List::MaybeValues(values.into_iter()));
                Reply::MaybeValues(Vec::new())
            }
            Reply::Pairs(pairs) => {
                lists.push_back(List::Pairs(pairs.into_iter()));
                Reply::Pairs(Vec::new())
            }
            Reply::Names(names) => {
                lists.push_back(List::Names(names.into_iter()));
                Reply::Names(Vec::new())
            }
            Reply::Attributes(attributes) => {
                lists.push_back(List::Attributes(attributes.into_iter()));
                Reply::Attributes(Vec::new())
            }
            Reply::Versioned { version, values } => {
                lists.push_back(List::Values(values.into_iter()));
                Reply::Versioned {
                    version,
                    values: Vec::new(),
                }
            }
            Reply::Registry(RegistryReply::Objects(objects)) => {
                lists.push_back(List::Objects(objects.into_iter()));
                Reply::Registry(RegistryReply::Objects(Vec::new()))
            }
            Reply::Registry(RegistryReply::Snapshot(mut snapshot)) => {
                let objects = std::mem::take(&mut snapshot.objects);
                let connections = std::mem::take(&mut snapshot.connections);
                lists.push_back(List::ObjectReports(objects.into_iter()));
                lists.push_back(List::Connections(connections.into_iter()));
                Reply::Registry(RegistryReply::Snapshot(snapshot))
            }
            other => other,
        };
        ReplyParts { last, lists }
    }

    /// The whole reply, from the `parts` that came before this last frame:
    /// their items go in front of this reply's own, in order.
    ///
    /// # Errors
    ///
    /// [`PartsMismatch`] if a part holds items this reply has no list for.
    pub fn after_parts(self, parts: Vec<Part>) -> Result<Reply, PartsMismatch> {
        if parts.is_empty() {
            return Ok(self);
        }
        let shape = self.shape();
        let mismatch = |part: &Part| PartsMismatch {
            part: part.kind(),
            reply: shape,
        };
        let mut reply = self;
        // Each list gathers its parts, then its own items go last.
        let mut gathered = Gathered::default();
        for part in parts {
            let fits = matches!(
                (&reply, &part),
                (Reply::Values(_) | Reply::Versioned { .. }, Part::Values(_))
                    | (Reply::MaybeValues(_), Part::MaybeValues(_))
                    | (Reply::Pairs(_), Part::Pairs(_))
                    | (Reply::Names(_), Part::Names(_))
                    | (Reply::Attributes(_), Part::Attributes(_))
                    | (Reply::Registry(RegistryReply::Objects(_)), Part::Objects(_))
                    | (
                        Reply::Registry(RegistryReply::Snapshot(_)),
                        Part::ObjectReports(_) | Part::Connections(_),
                    )
            );
            if !fits {
                return Err(mismatch(&part));
            }
            gathered.add(part);
        }
        match &mut reply {
            Reply::Values(own) | Reply::Versioned { values: own, .. } => {
                gathered.values.append(own);
                *own = gathered.values;
            }
            Reply::MaybeValues(own) => {
                gathered.maybe_values.append(own);
                *own = gathered.maybe_values;
            }
            Reply::Pairs(own) => {
                gathered.pairs.append(own);
                *own = gathered.pairs;
            }
            Reply::Names(own) => {
                gathered.names.append(own);
                *own = gathered.names;
            }
            Reply::Attributes(own) => {
                gathered.attributes.append(own);
                *own = gathered.attributes;
            }
            Reply::Registry(RegistryReply::Objects(own)) => {
                gathered.objects.append(own);
                *own = gathered.objects;
            }
            Reply::Registry(RegistryReply::Snapshot(snapshot)) => {
                gathered.object_reports.append(&mut snapshot.objects);
                snapshot.objects = gathered.object_reports;
                gathered.connections.append(&mut snapshot.connections);
                snapshot.connections = gathered.connections;
            }
            // Every other shape was refused above.
            _ => {}
        }
        Ok(reply)
    }

    fn shape(&self) -> &'static str {
        match self {
            Reply::Registry(RegistryReply::Object(_)) => "object",
            Reply::Registry(RegistryReply::Removed(_)) => "removed",
            Reply::Registry(RegistryReply::Objects(_)) => "objects",
            Reply::Registry(RegistryReply::Snapshot(_)) => "snapshot",
            Reply::Done => "done",
            Reply::Bool(_) => "bool",
            Reply::Count(_) => "count",
            Reply::Integer(_) => "integer",
            Reply::Value(_) => "value",
            Reply::MaybeValue(_) => "maybe value",
            Reply::Values(_) => "values",
            Reply::Pair(..) => "pair",
            Reply::Pairs(_) => "pairs",
            Reply::Names(_) => "names",
            Reply::Attributes(_) => "attributes",
            Reply::Swapped { .. } => "swapped",
            Reply::Delivery { .. } => "delivery",
            Reply::Versioned { .. } => "versioned",
            Reply::More(_) => "more",
            Reply::Woken { .. } => "woken",
            Reply::MaybeValues(_) => "maybe values",
            Reply::Mapping { .. } => "mapping",
        }
    }
}

/// The items of the parts of one reply, by list.
#[derive(Default)]
struct Gathered {
    values: Vec<Encoded>,
    pairs: Vec<(Encoded, Encoded)>,
    names: Vec<String>,
    attributes: Vec<(String, Encoded)>,
    objects: Vec<ObjectSummary>,
    object_reports: Vec<ObjectReport>,
    connections: Vec<ConnectionReport>,
    maybe_values: Vec<Option<Encoded>>,
}

impl Gathered {
    fn add(&mut self, part: Part) {
        match part {
            Part::Values(mut v) => self.values.append(&mut v),
            Part::Pairs(mut v) => self.pairs.append(&mut v),
            Part::Names(mut v) => self.names.append(&mut v),
            Part::Attributes(mut v) => self.attributes.append(&mut v),
            Part::Objects(mut v) => self.objects.append(&mut v),
            Part::ObjectReports(mut v) => self.object_reports.append(&mut v),
            Part::Connections(mut v) => self.connections.append(&mut v),
            Part::MaybeValues(mut v) => self.maybe_values.append(&mut v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(i: u32) -> Encoded {
        Encoded::encode(&i).unwrap()
    }

    fn cut(reply: Reply, max_bytes: usize) -> (Vec<Part>, Reply) {
        let mut cut = reply.into_parts();
        let mut parts = Vec::new();
        while let Some(part) = cut.next_part(max_bytes) {
            assert!(!part.is_empty(), "a part always holds an item");
            parts.push(part);
        }
        (parts, cut.into_last())
    }

    #[test]
    fn every_list_shape_joins_back_to_itself() {
        let values: Vec<_> = (0..300).map(value).collect();
        let pairs: Vec<_> = (0..300).map(|i| (value(i), value(i + 1))).collect();
        let names: Vec<_> = (0..300).map(|i| format!("name{i}")).collect();
        let attributes: Vec<_> = (0..300).map(|i| (format!("a{i}"), value(i))).collect();
        let maybe_values: Vec<_> = (0..300).map(|i| (i % 3 != 0).then(|| value(i))).collect();
        for reply in [
            Reply::Values(values.clone()),
            Reply::MaybeValues(maybe_values),
            Reply::Pairs(pairs),
            Reply::Names(names),
            Reply::Attributes(attributes),
            Reply::Versioned {
                version: 7,
                values: values.clone(),
            },
        ] {
            let (parts, last) = cut(reply.clone(), 200);
            assert!(parts.len() > 5, "{reply:?} cut into {}", parts.len());
            assert_eq!(last.after_parts(parts).unwrap(), reply);
        }
    }

    #[test]
    fn each_part_holds_at_most_its_budget_unless_one_item_is_larger() {
        let values: Vec<_> = (0..100_u32)
            .map(|i| Encoded::encode(&vec![0_u8; (i as usize % 7) * 40]).unwrap())
            .collect();
        let (parts, _) = cut(Reply::Values(values), 100);
        for part in &parts {
            let Part::Values(items) = part else {
                panic!("values cut into {part:?}")
            };
            let size: usize = items.iter().map(|v| codec::encoded_len(v).unwrap()).sum();
            assert!(
                size <= 100 || items.len() == 1,
                "{size} bytes in {}",
                items.len()
            );
        }
    }

    #[test]
    fn a_snapshot_keeps_its_totals_and_both_lists() {
        use crate::inspect::{ManagerSnapshot, Peer, Totals, UnixMillis};
        use crate::{ObjectId, ObjectKind, ObjectName};
        let t = UnixMillis(1_700_000_000_000);
        let snapshot = ManagerSnapshot {
            totals: Totals {
                taken_at: t,
                started_at: t,
                uptime: std::time::Duration::from_secs(3),
                connections_now: 40,
                connections_total: 41,
                requests_total: 9,
                recent_requests: 2,
                rate_window: std::time::Duration::from_secs(1),
                protocol_version: crate::PROTOCOL_VERSION,
                build_version: "0".into(),
                threads: 1,
                errors_total: 0,
                handshakes_failed: 0,
                rss_bytes: None,
                shared_memory_bytes: 0,
                descriptors_in_flight: 0,
            },
            objects: (0..500)
                .map(|i| ObjectReport {
                    id: ObjectId(i),
                    name: ObjectName::new(format!("o{i}")).unwrap(),
                    kind: ObjectKind::List,
                    created_at: t,
                    messages_handled: i,
                    mailbox: 0,
                    thread: 0,
                    last_operation: None,
                    detail: None,
                    latency: None,
                })
                .collect(),
            connections: (0..40)
                .map(|id| ConnectionReport {
                    id,
                    peer: Peer::Unix {
                        pid: Some(7),
                        uid: None,
                    },
                    thread: 0,
                    connected_at: t,
                    requests_served: 1,
                    requests_in_flight: 0,
                    descriptors_unread: 0,
                    holds: vec![],
                })
                .collect(),
            requested_by: 3,
        };
        let reply = Reply::Registry(RegistryReply::Snapshot(Box::new(snapshot.clone())));
        let (parts, last) = cut(reply.clone(), 1_000);
        assert!(parts.iter().any(|p| matches!(p, Part::Connections(_))));
        let Reply::Registry(RegistryReply::Snapshot(last_snapshot)) = &last else {
            panic!("last frame {last:?}")
        };
        let ManagerSnapshot {
            objects,
            connections,
            ..
        } = &**last_snapshot;
        assert!(objects.is_empty() && connections.is_empty());
        assert_eq!(last.after_parts(parts).unwrap(), reply);
    }

    #[test]
    fn parts_of_another_shape_are_refused() {
        let err = Reply::Names(Vec::new())
            .after_parts(vec![Part::Values(vec![value(1)])])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a part of values came before a reply of shape names"
        );
        assert!(Reply::Done.after_parts(vec![Part::Names(vec![])]).is_err());
    }

    #[test]
    fn only_lists_come_in_parts() {
        let (parts, last) = cut(Reply::Value(value(1)), 1);
        assert!(parts.is_empty());
        assert_eq!(last, Reply::Value(value(1)));
        assert!(!Reply::Done.comes_in_parts());
        assert!(Reply::Pairs(Vec::new()).comes_in_parts());
        let (parts, last) = cut(Reply::Values(Vec::new()), 10);
        assert!(parts.is_empty());
        assert_eq!(last, Reply::Values(Vec::new()));
    }
}

//! [`DictRequest`]: Python's dict operations, in insertion order.
//!
//! Keys are compared by their encoding and type. Each variant says which
//! [`Reply`](crate::reply::Reply) variant answers it.
//!
//! # Typed removals
//!
//! The requests that remove an entry and return it ([`DictRequest::Remove`],
//! [`DictRequest::Pop`], [`DictRequest::PopItem`],
//! [`DictRequest::RemoveMany`]) carry the type(s) the
//! caller will decode it as. The manager checks the stored [`TypeTag`]s
//! before removing anything: an entry of other types stays in the dict and
//! the request fails with `WrongType`.

use serde::{Deserialize, Serialize};

use crate::{Encoded, TypeTag};

/// A dict's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DictRequest {
    /// The number of entries. Replies `Count`.
    Len,
    /// The value of `key`, if any (Python's `d.get(k)`). Replies
    /// `MaybeValue`.
    Get {
        /// The key.
        key: Encoded,
    },
    /// Set `key` to `value`. Replies `MaybeValue`: the old value.
    Insert {
        /// The key.
        key: Encoded,
        /// The value.
        value: Encoded,
    },
    /// Remove `key`. Replies `MaybeValue`: the value it had. If `expect`
    /// names a type and the value was stored as another, nothing is removed
    /// and the reply is `WrongType`.
    Remove {
        /// The key.
        key: Encoded,
        /// The type the caller will decode the value as; `None` takes it
        /// whatever its type.
        expect: Option<TypeTag>,
    },
    /// Whether `key` is present. Replies `Bool`.
    ContainsKey {
        /// The key.
        key: Encoded,
    },
    /// Every key. Replies `Values`.
    Keys,
    /// Every value. Replies `Values`.
    Values,
    /// Every entry. Replies `Pairs`.
    Items,
    /// Set many entries in one request, in order (a later entry of the same
    /// key wins): the bulk insert. Replies `Done`.
    Update {
        /// The entries.
        items: Vec<(Encoded, Encoded)>,
    },
    /// The value of `key`, setting it to `default` first if absent. Replies
    /// `Value`.
    SetDefault {
        /// The key.
        key: Encoded,
        /// The value to set if absent.
        default: Encoded,
    },
    /// Remove `key` and return its value, or `default` if absent (no
    /// default: an error). Replies `Value`. If `expect` names a type and the
    /// value was stored as another, nothing is removed and the reply is
    /// `WrongType`.
    Pop {
        /// The key.
        key: Encoded,
        /// What to return if absent.
        default: Option<Encoded>,
        /// The type the caller will decode the value as; `None` takes it
        /// whatever its type.
        expect: Option<TypeTag>,
    },
    /// Remove and return the last inserted entry. Replies `Pair`. If
    /// `expect` names types and the entry's key or value was stored as
    /// another, nothing is removed and the reply is `WrongType`.
    PopItem {
        /// The types the caller will decode the key and the value as;
        /// `None` takes the entry whatever its types.
        expect: Option<(TypeTag, TypeTag)>,
    },
    /// Remove every entry. Replies `Done`.
    Clear,
    /// Add `delta` to the integer of any width at `key`, keeping its
    /// width; an absent key counts as a 0 of type `absent_as`. Replies
    /// `Integer`: the new value.
    Add {
        /// The key.
        key: Encoded,
        /// The amount; may be negative.
        delta: i64,
        /// The integer type an absent entry starts as (the proxy's `V`);
        /// `None`: `i64`.
        absent_as: Option<TypeTag>,
    },
    /// The values of many keys in one request. Replies `MaybeValues`: for
    /// each key, in the order asked, its value or `None` if absent.
    GetMany {
        /// The keys.
        keys: Vec<Encoded>,
    },
    /// Remove many keys in one request. Replies `MaybeValues`: for each
    /// key, in the order asked, the value it had or `None` if absent (a key
    /// asked twice is absent the second time). If `expect` names a type and
    /// any of the values was stored as another, nothing is removed and the
    /// reply is `WrongType`.
    RemoveMany {
        /// The keys.
        keys: Vec<Encoded>,
        /// The type the caller will decode the values as; `None` takes
        /// them whatever their types.
        expect: Option<TypeTag>,
    },
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    DictRequest {
        len() -> u64 = Len;
        get(key: Encoded) -> Option<Encoded> = Get { key };
        insert(key: Encoded, value: Encoded) -> Option<Encoded> = Insert { key, value };
        remove(key: Encoded, expect: Option<TypeTag>) -> Option<Encoded> = Remove { key, expect };
        contains_key(key: Encoded) -> bool = ContainsKey { key };
        keys() -> Vec<Encoded> = Keys;
        values() -> Vec<Encoded> = Values;
        items() -> Vec<(Encoded, Encoded)> = Items;
        update(items: Vec<(Encoded, Encoded)>) -> () = Update { items };
        set_default(key: Encoded, default: Encoded) -> Encoded = SetDefault { key, default };
        pop(key: Encoded, default: Option<Encoded>, expect: Option<TypeTag>) -> Encoded = Pop { key, default, expect };
        pop_item(expect: Option<(TypeTag, TypeTag)>) -> (Encoded, Encoded) = PopItem { expect };
        clear() -> () = Clear;
        add(key: Encoded, delta: i64, absent_as: Option<TypeTag>) -> i64 = Add { key, delta, absent_as };
        get_many(keys: Vec<Encoded>) -> Vec<Option<Encoded>> = GetMany { keys };
        remove_many(keys: Vec<Encoded>, expect: Option<TypeTag>) -> Vec<Option<Encoded>> = RemoveMany { keys, expect };
    }
}

impl super::KindRequest for DictRequest {
    const FAMILY: &'static str = "dict";

    fn replies_in_bulk(&self) -> bool {
        matches!(
            self,
            DictRequest::Keys
                | DictRequest::Values
                | DictRequest::Items
                | DictRequest::GetMany { .. }
                | DictRequest::RemoveMany { .. }
        )
    }
}

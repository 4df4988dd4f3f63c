//! Compact type tags: within one encoding, a [`TypeTag`] is written as its
//! name the first time and as a one- or two-byte reference to that first
//! time after, so a frame of 10,000 strings carries
//! `alloc::string::String` once.
//!
//! Every encode and decode of the codec (and [`encoded_len`]) runs in a
//! scope of its own ([`Scope`]), which holds the names written or read so
//! far, in order; an encode nested in another (a value encoded while a
//! frame is) has its own. Both sides record the same names in the same
//! order, so a reference means the same name to both, and neither keeps
//! more than [`TABLE_MAX`] names: past that, a new name is written whole
//! each time. A reference to a name the decoder has not read is an
//! invalid encoding, not a guess.
//!
//! Outside a scope (another serde format, such as the inspector's JSON) a
//! tag is its name, as a string.
//!
//! [`encoded_len`]: super::encoded_len

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, EnumAccess, VariantAccess, Visitor};
use serde::{Deserializer, Serializer};

use crate::TypeTag;

/// The most names one scope records.
pub(crate) const TABLE_MAX: usize = 64;

thread_local! {
    /// The tables of the scopes open on this thread.
    static TABLES: RefCell<Tables> = const {
        RefCell::new(Tables {
            open: 0,
            tables: Vec::new(),
        })
    };
}

/// The scopes open on one thread: how many, and their tables. Every encode
/// and decode opens a scope, most write no tag at all, so opening one only
/// counts it; its table is made when its first name is recorded, and kept
/// emptied for the next scope at that depth.
struct Tables {
    /// How many scopes are open; the innermost is `open - 1`.
    open: usize,
    /// The table of each depth made so far, outermost first; those at or
    /// past `open` are empty.
    tables: Vec<Vec<TypeTag>>,
}

impl Tables {
    /// The innermost open scope's table, if a scope is open.
    fn innermost(&mut self) -> Option<&mut Vec<TypeTag>> {
        let depth = self.open.checked_sub(1)?;
        if self.tables.len() <= depth {
            self.tables.resize_with(depth + 1, Vec::new);
        }
        Some(&mut self.tables[depth])
    }
}

/// One encoding's table of names, open until dropped; the enclosing
/// scope's table, if any, is the innermost again then. Dropped on the
/// thread that opened it (it is not `Send`).
pub(crate) struct Scope {
    _not_send: PhantomData<*const ()>,
}

impl Scope {
    /// Opens a scope with an empty table.
    pub(crate) fn enter() -> Scope {
        TABLES.with_borrow_mut(|t| t.open += 1);
        Scope {
            _not_send: PhantomData,
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        TABLES.with_borrow_mut(|t| {
            t.open -= 1;
            if let Some(names) = t.tables.get_mut(t.open) {
                // Never more than `TABLE_MAX` names, so a kept table stays
                // small.
                names.clear();
            }
        });
    }
}

/// How a tag goes on the wire inside a scope: an enum of two variants.
const VARIANTS: &[&str] = &["Name", "Ref"];

/// What the table says of a tag about to be written.
enum Written {
    /// No scope is open: the plain name.
    Plain,
    /// Not seen in this scope: its name (recorded if the table had room).
    Name,
    /// Seen: its place in the table.
    Ref(u32),
}

/// Writes `tag`: a reference to its first time in this scope, or its name.
pub(crate) fn serialize<S: Serializer>(tag: &TypeTag, serializer: S) -> Result<S::Ok, S::Error> {
    let written = if serializer.is_human_readable() {
        Written::Plain
    } else {
        TABLES.with_borrow_mut(|t| match t.innermost() {
            None => Written::Plain,
            Some(names) => match names.iter().position(|known| known == tag) {
                Some(at) => Written::Ref(at as u32),
                None => {
                    if names.len() < TABLE_MAX {
                        names.push(tag.clone());
                    }
                    Written::Name
                }
            },
        })
    };
    match written {
        Written::Plain => serializer.serialize_str(tag.as_str()),
        Written::Name => serializer.serialize_newtype_variant("TypeTag", 0, "Name", tag.as_str()),
        Written::Ref(at) => serializer.serialize_newtype_variant("TypeTag", 1, "Ref", &at),
    }
}

/// Reads a tag written by [`serialize`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TypeTag, D::Error> {
    let scoped = !deserializer.is_human_readable() && TABLES.with_borrow(|t| t.open > 0);
    if scoped {
        deserializer.deserialize_enum("TypeTag", VARIANTS, Compact)
    } else {
        deserializer.deserialize_str(Name)
    }
}

/// Reads a type name.
struct Name;

impl Visitor<'_> for Name {
    type Value = TypeTag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a type name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<TypeTag, E> {
        Ok(TypeTag::from_name(name))
    }
}

impl<'de> DeserializeSeed<'de> for Name {
    type Value = TypeTag;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TypeTag, D::Error> {
        deserializer.deserialize_str(self)
    }
}

/// Reads a tag in its compact form, and records a new name.
struct Compact;

impl<'de> Visitor<'de> for Compact {
    type Value = TypeTag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a type name or a reference to one")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<TypeTag, A::Error> {
        let (variant, access) = data.variant::<u32>()?;
        match variant {
            0 => {
                let tag = access.newtype_variant_seed(Name)?;
                TABLES.with_borrow_mut(|t| {
                    if let Some(names) = t.innermost()
                        && names.len() < TABLE_MAX
                    {
                        names.push(tag.clone());
                    }
                });
                Ok(tag)
            }
            1 => {
                let at: u32 = access.newtype_variant()?;
                TABLES
                    .with_borrow_mut(|t| {
                        t.innermost()
                            .and_then(|names| names.get(at as usize).cloned())
                    })
                    .ok_or_else(|| {
                        de::Error::custom(format_args!(
                            "a reference to type name #{at}, which no earlier tag in the encoding gave"
                        ))
                    })
            }
            other => Err(de::Error::invalid_value(
                de::Unexpected::Unsigned(u64::from(other)),
                &"a type name (0) or a reference (1)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Encoded, codec};

    fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count()
    }

    #[test]
    fn a_frame_of_one_type_carries_its_name_once() {
        let items: Vec<Encoded> = (0..1000)
            .map(|n| Encoded::encode(&format!("item {n}")).unwrap())
            .collect();
        let wire = codec::encode(&items).unwrap();
        let name = b"alloc::string::String";
        assert_eq!(occurrences(&wire, name), 1);
        // Each later tag is two bytes: the variant and its place.
        let payloads: usize = items.iter().map(|v| v.bytes().len() + 1).sum();
        assert!(wire.len() <= 3 + (name.len() + 2) + 999 * 2 + payloads);
        let back: Vec<Encoded> = codec::decode(&wire).unwrap();
        assert_eq!(back, items);
        assert!(back.iter().all(|v| v.tag() == &TypeTag::of::<String>()));
    }

    #[test]
    fn mixed_and_many_types_keep_their_own_tags() {
        // More distinct names than a table holds, each used again later, so
        // references and whole names past the full table interleave.
        let names: Vec<TypeTag> = (0..TABLE_MAX + 20)
            .map(|n| TypeTag::from_name(&format!("app::Type{n}")))
            .collect();
        let mut tags = Vec::new();
        for round in 0..3 {
            for (n, name) in names.iter().enumerate() {
                if (n + round) % 2 == 0 {
                    tags.push(name.clone());
                    tags.push(TypeTag::of::<i64>());
                }
            }
        }
        let wire = codec::encode(&tags).unwrap();
        let back: Vec<TypeTag> = codec::decode(&wire).unwrap();
        assert_eq!(back, tags);
        // Sized as encoded.
        assert_eq!(codec::encoded_len(&tags).unwrap(), wire.len());
    }

    #[test]
    fn an_encoding_inside_a_value_has_its_own_table() {
        // A value whose payload is itself an encoding with tags: its
        // references count from its own first tag, not the frame's.
        let inner = vec![
            Encoded::encode(&1_u8).unwrap(),
            Encoded::encode(&2_u8).unwrap(),
        ];
        let outer = (
            Encoded::encode(&3_u8).unwrap(),
            Encoded::encode(&inner).unwrap(),
            Encoded::encode(&4_u8).unwrap(),
        );
        let wire = codec::encode(&outer).unwrap();
        let back: (Encoded, Encoded, Encoded) = codec::decode(&wire).unwrap();
        assert_eq!(back, outer);
        assert_eq!(back.1.decode::<Vec<Encoded>>("inner").unwrap(), inner);
    }

    #[test]
    fn a_reference_to_no_earlier_name_is_refused() {
        // Variant 1, place 0, with no name before it.
        let err = codec::decode::<TypeTag>(&[1, 0]).unwrap_err();
        assert!(err.to_string().contains("no earlier tag"), "{err}");
        // A name, then a reference past it.
        let mut wire = codec::encode(&TypeTag::of::<u8>()).unwrap();
        wire.extend([1, 1]);
        let err = codec::decode::<(TypeTag, TypeTag)>(&wire).unwrap_err();
        assert!(err.to_string().contains("#1"), "{err}");
        // Neither variant.
        assert!(codec::decode::<TypeTag>(&[2, 0]).is_err());
    }

    /// Every one-byte change of a frame with names and references either
    /// fails to decode or decodes to values that survive a round trip:
    /// no panic, and no reference that means one thing and then another.
    #[test]
    fn a_changed_byte_never_panics_or_shifts_a_tag() {
        let items: Vec<Encoded> = (0..6_i64)
            .flat_map(|n| {
                [
                    Encoded::encode(&n).unwrap(),
                    Encoded::encode(&format!("{n}")).unwrap(),
                    Encoded::encode(&(n as u8)).unwrap(),
                ]
            })
            .collect();
        let wire = codec::encode(&items).unwrap();
        for at in 0..wire.len() {
            for byte in [0, 1, 2, 3, 0x7f, 0xfb, 0xff, wire[at] ^ 1] {
                let mut changed = wire.clone();
                changed[at] = byte;
                let Ok(back) = codec::decode::<Vec<Encoded>>(&changed) else {
                    continue;
                };
                let again: Vec<Encoded> = codec::decode(&codec::encode(&back).unwrap()).unwrap();
                assert_eq!(again, back, "byte {at} set to {byte}");
            }
        }
    }

    /// Whether this thread has no scope open and no name kept.
    fn no_scope_left() -> bool {
        TABLES.with_borrow(|t| t.open == 0 && t.tables.iter().all(Vec::is_empty))
    }

    /// Review probe (bc674b8): a `Serialize` that encodes a value of its
    /// own (a nested scope, which records a name) and then panics leaves
    /// no scope open and no name behind once the panic is caught: the
    /// next encoding's references mean what they say.
    #[test]
    fn a_panic_inside_a_nested_encode_leaves_no_scope_open() {
        struct Bomb;
        impl serde::Serialize for Bomb {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let _ = codec::encode(&(TypeTag::of::<u8>(), TypeTag::of::<u16>())).unwrap();
                TypeTag::of::<u32>().serialize(s)?;
                panic!("bomb");
            }
        }
        let caught = std::panic::catch_unwind(|| {
            codec::encode(&(TypeTag::of::<String>(), TypeTag::of::<i8>(), Bomb))
        });
        assert!(caught.is_err());
        assert!(no_scope_left());
        let tags = vec![
            TypeTag::of::<i64>(),
            TypeTag::of::<i64>(),
            TypeTag::of::<String>(),
            TypeTag::of::<i64>(),
        ];
        let wire = codec::encode(&tags).unwrap();
        assert_eq!(codec::decode::<Vec<TypeTag>>(&wire).unwrap(), tags);
        assert_eq!(codec::encoded_len(&tags).unwrap(), wire.len());
    }

    /// Review probe (bc674b8): a decode that panics after it read names
    /// leaves none for the next decode: a reference to no earlier name is
    /// still refused, not read as the dead decode's name.
    #[test]
    fn a_panic_inside_a_decode_leaves_no_name_for_the_next() {
        struct Boom;
        impl<'de> serde::Deserialize<'de> for Boom {
            fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                // A nested decode with names of its own, then the panic.
                let wire = codec::encode(&(TypeTag::of::<u8>(), TypeTag::of::<u8>())).unwrap();
                let _: (TypeTag, TypeTag) = codec::decode(&wire).unwrap();
                panic!("boom");
            }
        }
        let wire = codec::encode(&(TypeTag::of::<String>(), 0_u8)).unwrap();
        let caught = std::panic::catch_unwind(|| codec::decode::<(TypeTag, Boom)>(&wire));
        assert!(caught.is_err());
        assert!(no_scope_left());
        let err = codec::decode::<TypeTag>(&[1, 0]).unwrap_err();
        assert!(err.to_string().contains("no earlier tag"), "{err}");
    }

    /// Review probe (bc674b8): scopes are per thread; one thread's open
    /// scope is not another's.
    #[test]
    fn another_threads_scope_is_not_this_ones() {
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || {
            let _scope = Scope::enter();
            let _ = codec::encoded_len(&TypeTag::of::<String>());
            opened_tx.send(()).unwrap();
            done_rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .ok();
        });
        opened_rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        assert!(no_scope_left());
        let err = codec::decode::<TypeTag>(&[1, 0]).unwrap_err();
        assert!(err.to_string().contains("no earlier tag"), "{err}");
        done_tx.send(()).unwrap();
        other.join().unwrap();
    }
}

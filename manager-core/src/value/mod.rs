//! [`Encoded`]: a user's value as it travels and as the manager stores it.
//!
//! The manager does not know the users' types: a stand-alone manager serves
//! any client. An [`Encoded`] value is therefore the codec's bytes of the user's value
//! plus a [`TypeTag`] naming its Rust type. The manager stores both and hands
//! them back unchanged; a proxy decodes them only if the tag matches the type
//! asked for, so reading a `String` as an `i64` is a clear
//! [`ManagerError::WrongType`] instead of garbage.
//!
//! # Type tags
//!
//! The tag is the type's name from [`std::any::type_name`], with references
//! stripped and `str` spelled as `String` at any depth, so `set("x", &"hi")`
//! can be read back with `get::<String>` and `("a", &v)` as
//! `(String, Vec<_>)`. Two programs built by the same compiler agree on
//! tags; a type that moves to another module changes its tag. Messages name
//! types as a Rust user writes them ([`short_type_name`]: `String`, not
//! `alloc::string::String`); the tags themselves keep the full name.
//!
//! # Numbers are families
//!
//! A read checks the tag, with one exception: the integers (`i8` to `i128`,
//! `u8` to `u128`, `isize`, `usize`) are one family, and so are the floats
//! (`f32`, `f64`). A value stored as one member is read as another when it
//! fits: `set("n", &0)` stores an `i32` that `get::<i64>` reads. A value that
//! does not fit (`300` as a `u8`, a negative number as a `u64`, an `f64` that
//! an `f32` cannot hold exactly) is [`ManagerError::DoesNotFit`], never a
//! wrapped or rounded number. Integers and floats are not one family: an
//! integer is not read as a float, nor a float as an integer.
//!
//! [`Encoded::read_as`] applies the rule knowing only the tag, so the manager
//! checks a taking read (a queue `get`, a `pop`) before removing the item,
//! and [`Encoded::checked_add`] is the manager's atomic add on an integer of
//! any width.

use std::borrow::{Borrow, Cow};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{CodecError, ManagerError, codec};

mod bytes;

use self::bytes::{INLINE, ValueBytes};

/// The name of the Rust type an [`Encoded`] value was encoded from.
///
/// Shared, not copied: a tag is one reference-counted name, so the values
/// of one type that a manager stores hold one copy of their type's name,
/// cloning a tag allocates nothing, and a tag decoded from the wire whose
/// name this process has seen before costs no allocation either (see
/// [`TypeTag::from_name`]). On the wire it is the name the first time in
/// a frame, and a reference to that after.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeTag(Arc<str>);

/// How many tags each thread keeps at hand (see [`TypeTag::from_name`]).
const RECENT_TAGS: usize = 4;

/// Names longer than this are not kept in the table of known names.
const KNOWN_NAME_MAX: usize = 256;
/// The most names the table of known names keeps: a peer that sends
/// endless distinct names costs an allocation per value, not a table that
/// grows.
const KNOWN_NAMES_MAX: usize = 4096;

/// The type names this process has made or decoded (at most
/// [`KNOWN_NAMES_MAX`] of at most [`KNOWN_NAME_MAX`] bytes).
static KNOWN_NAMES: LazyLock<RwLock<HashSet<Arc<str>>>> = LazyLock::new(Default::default);

impl TypeTag {
    /// The tag for `T`. Made once per type and thread, then cloned.
    pub fn of<T: ?Sized>() -> Self {
        thread_local! {
            static MADE: RefCell<HashMap<&'static str, TypeTag>> = RefCell::new(HashMap::new());
        }
        let name = std::any::type_name::<T>();
        MADE.with(|made| {
            if let Some(tag) = made.borrow().get(name) {
                return tag.clone();
            }
            let tag = TypeTag::from_name(&without_references(name));
            made.borrow_mut().insert(name, tag.clone());
            tag
        })
    }

    /// The tag named `name` (a full name, as [`TypeTag::as_str`] gives it),
    /// sharing the name with every tag of that name this process knows.
    pub fn from_name(name: &str) -> Self {
        // Most values a thread decodes in a row have one of a few types:
        // those are found by comparing names, without the shared table's
        // lock or a hash.
        thread_local! {
            static RECENT: RefCell<[Option<TypeTag>; RECENT_TAGS]> = const { RefCell::new([const { None }; RECENT_TAGS]) };
            static NEXT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let hit = RECENT.with(|recent| {
            recent
                .borrow()
                .iter()
                .flatten()
                .find(|tag| &*tag.0 == name)
                .cloned()
        });
        if let Some(tag) = hit {
            return tag;
        }
        let tag = Self::from_known_names(name);
        if name.len() > KNOWN_NAME_MAX {
            // A peer's odd long name is not worth a place: comparing it
            // would slow every later look-up.
            return tag;
        }
        RECENT.with(|recent| {
            let at = NEXT.with(|next| {
                let at = next.get();
                next.set((at + 1) % RECENT_TAGS);
                at
            });
            recent.borrow_mut()[at] = Some(tag.clone());
        });
        tag
    }

    /// [`TypeTag::from_name`] through the table of known names.
    fn from_known_names(name: &str) -> Self {
        let known = KNOWN_NAMES.read().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = known.get(name) {
            return TypeTag(shared.clone());
        }
        let full = known.len() >= KNOWN_NAMES_MAX;
        drop(known);
        let shared: Arc<str> = Arc::from(name);
        if !full && name.len() <= KNOWN_NAME_MAX {
            let mut known = KNOWN_NAMES.write().unwrap_or_else(|e| e.into_inner());
            if let Some(other) = known.get(name) {
                // Another thread added it meanwhile.
                return TypeTag(other.clone());
            }
            if known.len() < KNOWN_NAMES_MAX {
                known.insert(shared.clone());
            }
        }
        TypeTag(shared)
    }

    /// The tag as a string: the full name, for example
    /// `alloc::string::String`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// On the wire, the name the first time in an encoding and a reference
/// after that (see the codec); elsewhere, the name as a string.
impl Serialize for TypeTag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        codec::tags::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for TypeTag {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        codec::tags::deserialize(deserializer)
    }
}

/// Shows the name as a Rust user writes it ([`short_type_name`]).
impl fmt::Display for TypeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&short_type_name(&self.0))
    }
}

/// A type's name as a Rust user writes it: paths into `std`, `alloc` and
/// `core` are cut to their last segment, other paths are kept whole.
///
/// `alloc::vec::Vec<alloc::string::String>` becomes `Vec<String>`,
/// `core::option::Option<my_crate::Job>` becomes `Option<my_crate::Job>`.
pub fn short_type_name(name: &str) -> String {
    let is_path_char = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while !rest.is_empty() {
        let end = rest.find(|c| !is_path_char(c)).unwrap_or(rest.len());
        let (path, after) = rest.split_at(end);
        let standard = ["std::", "alloc::", "core::"]
            .iter()
            .any(|root| path.starts_with(root));
        match path.rsplit_once("::") {
            Some((_, last)) if standard => out.push_str(last),
            _ => out.push_str(path),
        }
        // The separators up to the next path.
        let next = after.find(is_path_char).unwrap_or(after.len());
        out.push_str(&after[..next]);
        rest = &after[next..];
    }
    out
}

/// A number read from its encoding, whatever its width.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Signed(i128),
    Unsigned(u128),
    Float(f64),
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Signed(n) => write!(f, "{n}"),
            Number::Unsigned(n) => write!(f, "{n}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Calls `$m!` with every integer type and the [`Number`] variant that holds it.
macro_rules! for_each_integer {
    ($m:ident!($($args:tt)*)) => {
        $m!($($args)*;
            i8 => Signed, i16 => Signed, i32 => Signed, i64 => Signed, i128 => Signed,
            isize => Signed,
            u8 => Unsigned, u16 => Unsigned, u32 => Unsigned, u64 => Unsigned,
            u128 => Unsigned, usize => Unsigned)
    };
}

impl Number {
    /// Whether `tag` names an integer type.
    fn is_integer(tag: &str) -> bool {
        macro_rules! check {
            ($tag:expr; $($t:ty => $v:ident),*) => {
                matches!($tag, $(stringify!($t))|*)
            };
        }
        for_each_integer!(check!(tag))
    }

    /// Whether `tag` names a number type.
    fn is_number(tag: &str) -> bool {
        Self::is_integer(tag) || tag == "f32" || tag == "f64"
    }

    /// Decodes `bytes` as the number type `tag` names; `None` if `tag` is no
    /// number type.
    fn decode(tag: &str, bytes: &[u8]) -> Option<Result<Number, CodecError>> {
        macro_rules! read {
            ($tag:expr, $bytes:expr; $($t:ty => $v:ident),*) => {
                match $tag {
                    $(stringify!($t) => Some(codec::decode::<$t>($bytes).map(|n| Number::$v(n as _))),)*
                    "f32" => Some(codec::decode::<f32>($bytes).map(|x| Number::Float(f64::from(x)))),
                    "f64" => Some(codec::decode::<f64>($bytes).map(Number::Float)),
                    _ => None,
                }
            };
        }
        for_each_integer!(read!(tag, bytes))
    }

    /// Encodes the number as the type `tag` names: `None` if it does not fit
    /// exactly (or `tag` is no number type of the same family).
    fn encode_as(self, tag: &str) -> Option<Vec<u8>> {
        macro_rules! write {
            ($tag:expr, $n:expr; $($t:ty => $v:ident),*) => {
                match ($tag, $n) {
                    $(
                        (stringify!($t), Number::Signed(n)) => codec::encode(&<$t>::try_from(n).ok()?).ok(),
                        (stringify!($t), Number::Unsigned(n)) => codec::encode(&<$t>::try_from(n).ok()?).ok(),
                    )*
                    ("f64", Number::Float(x)) => codec::encode(&x).ok(),
                    ("f32", Number::Float(x)) => {
                        #[allow(clippy::cast_possible_truncation)]
                        let single = x as f32;
                        (f64::from(single) == x || x.is_nan()).then(|| codec::encode(&single).ok())?
                    }
                    _ => None,
                }
            };
        }
        for_each_integer!(write!(tag, self))
    }
}

/// `name` with every reference dropped and every `str` spelled `String`,
/// at any depth: serde encodes `&T` as `T` and `str` as `String`, so
/// `("a", &v)` and `(String, Vec<u64>)` are one type on the wire (a worker's
/// arguments are often written the first way and read the second).
fn without_references(name: &str) -> String {
    const STRING: &str = "alloc::string::String";
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if c == '&' {
            rest = &rest[1..];
            rest = rest.strip_prefix("mut ").unwrap_or(rest);
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            out.push_str(if word == "str" { STRING } else { word });
            rest = &rest[end..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `value`'s encoding: a short one straight into place, without an
/// allocation.
fn encode_bytes<T: Serialize + ?Sized>(value: &T) -> Result<ValueBytes, CodecError> {
    let mut small = [0_u8; INLINE];
    Ok(match codec::encode_small_first(value, &mut small)? {
        codec::SmallFirst::InSlice(len) => ValueBytes::copy_from(&small[..len]),
        codec::SmallFirst::Spilled(bytes) => bytes.into(),
    })
}

/// An encoded user value together with the name of its type.
///
/// Its `Debug` shows the value itself where the codec can read it without
/// the program's own types (numbers, `bool`, `char`, strings, `()`), and its
/// type and size otherwise, so a snapshot prints without knowing each
/// value's type: `{"hits": 3, "name": "bob", "job": <app::Job, 24 bytes>}`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Encoded {
    tag: TypeTag,
    /// As one byte string, not a sequence of `u8`s: encoded and decoded in
    /// one copy. Short ones inline; longer ones shared, not copied, when the
    /// value is cloned: a reply that hands out a stored value (a get, a
    /// snapshot) holds the stored bytes.
    bytes: ValueBytes,
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.bytes.as_slice();
        let tag = self.tag.as_str();
        match Number::decode(tag, bytes) {
            Some(Ok(Number::Float(x))) => return write!(f, "{x:?}"),
            Some(Ok(n)) => return write!(f, "{n}"),
            _ => {}
        }
        let shown = match tag {
            "bool" => codec::decode::<bool>(bytes).map(|b| write!(f, "{b:?}")),
            "char" => codec::decode::<char>(bytes).map(|c| write!(f, "{c:?}")),
            "alloc::string::String" => codec::decode::<String>(bytes).map(|s| write!(f, "{s:?}")),
            "()" => codec::decode::<()>(bytes).map(|()| f.write_str("()")),
            _ => return write!(f, "<{}, {} bytes>", self.tag, bytes.len()),
        };
        // Bytes that are not what their tag says: shown as bytes.
        shown.unwrap_or_else(|_| write!(f, "<{}, {} bytes>", self.tag, bytes.len()))
    }
}

impl Encoded {
    /// Encodes `value`.
    ///
    /// # Errors
    ///
    /// [`CodecError::Encode`] if the value's `Serialize` fails.
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Self, CodecError> {
        Ok(Encoded {
            tag: TypeTag::of::<T>(),
            bytes: encode_bytes(value)?,
        })
    }

    /// Encodes `value`, borrowed from an owned `K` (a `&str` of a `String`
    /// key, a `&[u8]` of a `Vec<u8>`), as that `K` would be: under `K`'s tag.
    /// This is how a `Dict<String, V>` is looked up with a `&str`, as a
    /// `HashMap` is.
    ///
    /// The bytes are `value`'s own; they equal the owned key's wherever the
    /// borrowed form serializes as the owned one does, as it does for the
    /// standard library's pairs (`String`/`str`, `Vec<T>`/`[T]`,
    /// `Box<T>`/`T`, `PathBuf`/`Path`) and must for any pair used this way,
    /// as [`Borrow`] already asks of `Eq` and `Hash`.
    ///
    /// # Errors
    ///
    /// [`CodecError::Encode`] if the value's `Serialize` fails.
    pub fn encode_borrowed<K, Q>(value: &Q) -> Result<Self, CodecError>
    where
        K: Borrow<Q> + ?Sized,
        Q: Serialize + ?Sized,
    {
        Ok(Encoded {
            tag: TypeTag::of::<K>(),
            bytes: encode_bytes(value)?,
        })
    }

    /// Decodes the value as a `T`; `what` names it in errors (for example
    /// "attribute `x` of namespace `cfg`"). A number stored as another
    /// member of its family is read as `T` when it fits
    /// ([`Encoded::read_as`]).
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`] if the value was stored as another type,
    /// [`ManagerError::DoesNotFit`] if it is a number that `T` cannot hold,
    /// and [`ManagerError::Undecodable`] if its bytes do not decode as `T`.
    pub fn decode<T: DeserializeOwned>(&self, what: impl fmt::Display) -> Result<T, ManagerError> {
        let value = self.read_as(&TypeTag::of::<T>(), &what)?;
        codec::decode(value.bytes.as_slice()).map_err(|e| ManagerError::Undecodable {
            what: what.to_string(),
            reason: e.to_string(),
        })
    }

    /// The value as type `wanted`: itself if it was stored as that type;
    /// converted if both are integers, or both floats, and the value fits
    /// exactly; otherwise an error. Needs only the tag, not the type, so the
    /// manager checks with it what a taking read will be able to decode.
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`] if the types differ (and are not of one
    /// number family), [`ManagerError::DoesNotFit`] if the number does not
    /// fit in `wanted`, and [`ManagerError::Undecodable`] if a number's bytes
    /// do not decode as its own type.
    pub fn read_as(
        &self,
        wanted: &TypeTag,
        what: impl fmt::Display,
    ) -> Result<Cow<'_, Encoded>, ManagerError> {
        if *wanted == self.tag {
            return Ok(Cow::Borrowed(self));
        }
        let wrong_type = || ManagerError::WrongType {
            what: what.to_string(),
            stored: self.tag.0.to_string(),
            requested: wanted.0.to_string(),
        };
        let same_family = (Number::is_integer(&self.tag.0) && Number::is_integer(&wanted.0))
            || (Number::is_number(&self.tag.0)
                && Number::is_number(&wanted.0)
                && !Number::is_integer(&self.tag.0)
                && !Number::is_integer(&wanted.0));
        if !same_family {
            return Err(wrong_type());
        }
        let number = self.number(&what)?.ok_or_else(wrong_type)?;
        let bytes = number
            .encode_as(&wanted.0)
            .ok_or_else(|| ManagerError::DoesNotFit {
                what: what.to_string(),
                value: number.to_string(),
                stored: self.tag.0.to_string(),
                requested: wanted.0.to_string(),
            })?;
        Ok(Cow::Owned(Encoded {
            tag: wanted.clone(),
            bytes: bytes.into(),
        }))
    }

    /// Adds `delta` to an integer of any width and returns the sum, encoded
    /// as the same width, and the sum as an `i64`: the manager's atomic
    /// add. `what` names the value in errors.
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`] if the value is no integer,
    /// [`ManagerError::Overflow`] if the sum does not fit in the value's own
    /// type, or in the `i64` an add returns, and
    /// [`ManagerError::Undecodable`] if its bytes do not decode as its type.
    pub fn checked_add(
        &self,
        delta: i64,
        what: impl fmt::Display,
    ) -> Result<(Encoded, i64), ManagerError> {
        let current = match self.number(&what)? {
            Some(n @ (Number::Signed(_) | Number::Unsigned(_))) => n,
            _ => {
                return Err(ManagerError::WrongType {
                    what: what.to_string(),
                    stored: self.tag.0.to_string(),
                    requested: "i64".to_owned(),
                });
            }
        };
        let overflow = |bound: &str| ManagerError::Overflow {
            what: what.to_string(),
            current: current.to_string(),
            delta,
            stored: self.tag.0.to_string(),
            bound: bound.to_owned(),
        };
        let sum = match current {
            Number::Signed(n) => n.checked_add(i128::from(delta)).map(Number::Signed),
            Number::Unsigned(n) => n
                .checked_add_signed(i128::from(delta))
                .map(Number::Unsigned),
            Number::Float(_) => unreachable!("matched an integer above"),
        }
        .ok_or_else(|| overflow(&self.tag.0))?;
        let bytes = sum
            .encode_as(&self.tag.0)
            .ok_or_else(|| overflow(&self.tag.0))?;
        let reply = match sum {
            Number::Signed(n) => i64::try_from(n).ok(),
            Number::Unsigned(n) => i64::try_from(n).ok(),
            Number::Float(_) => None,
        }
        .ok_or_else(|| overflow("i64"))?;
        Ok((
            Encoded {
                tag: self.tag.clone(),
                bytes: bytes.into(),
            },
            reply,
        ))
    }

    /// Whether this value equals `expected` for a compare-and-swap: the same
    /// type and bytes, or a number that, read as `expected`'s type
    /// ([`Encoded::read_as`]), is `expected`. So an `i32` 5 matches an
    /// expected `i64` 5. Items of lists, dicts and sets do not use this:
    /// there an `i32` 5 and an `i64` 5 are different items.
    pub fn matches(&self, expected: &Encoded) -> bool {
        self == expected
            || self
                .read_as(&expected.tag, "")
                .is_ok_and(|value| value.bytes == expected.bytes)
    }

    /// The value as a number, if its tag names a number type.
    fn number(&self, what: impl fmt::Display) -> Result<Option<Number>, ManagerError> {
        Number::decode(&self.tag.0, self.bytes.as_slice())
            .transpose()
            .map_err(|e| ManagerError::Undecodable {
                what: what.to_string(),
                reason: e.to_string(),
            })
    }

    /// The tag of the type the value was encoded from.
    pub fn tag(&self) -> &TypeTag {
        &self.tag
    }

    /// The encoded bytes, without the tag.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// Approximate heap bytes held by this value.
    pub fn heap_size(&self) -> usize {
        self.bytes.as_slice().len() + self.tag.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_plain_values_and_the_type_of_the_rest() {
        let show = |e: Encoded| format!("{e:?}");
        assert_eq!(show(Encoded::encode(&-3_i64).unwrap()), "-3");
        assert_eq!(show(Encoded::encode(&7_u8).unwrap()), "7");
        assert_eq!(show(Encoded::encode(&1.0_f64).unwrap()), "1.0");
        assert_eq!(show(Encoded::encode(&true).unwrap()), "true");
        assert_eq!(show(Encoded::encode(&'x').unwrap()), "'x'");
        assert_eq!(
            show(Encoded::encode("say \"hi\"").unwrap()),
            r#""say \"hi\"""#
        );
        assert_eq!(show(Encoded::encode(&()).unwrap()), "()");
        assert_eq!(
            show(Encoded::encode(&vec![1_u32, 2]).unwrap()),
            "<Vec<u32>, 3 bytes>"
        );
        let mut map = std::collections::BTreeMap::new();
        map.insert("n", Encoded::encode(&5_u32).unwrap());
        map.insert("s", Encoded::encode("bob").unwrap());
        assert_eq!(format!("{map:?}"), r#"{"n": 5, "s": "bob"}"#);
    }

    #[test]
    fn a_value_is_serialized_once_whatever_its_length() {
        // A `Serialize` that may run once (it drains what it serializes).
        struct Once(std::cell::RefCell<Option<String>>);
        impl Serialize for Once {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.0.borrow_mut().take() {
                    Some(text) => s.serialize_str(&text),
                    None => Err(serde::ser::Error::custom("serialized twice")),
                }
            }
        }
        for len in [0, 5, INLINE - 1, INLINE, INLINE + 1, 1000] {
            let text = "x".repeat(len);
            let once = Once(std::cell::RefCell::new(Some(text.clone())));
            let encoded = Encoded::encode(&once).unwrap();
            assert_eq!(
                encoded.bytes(),
                &codec::encode(&text).unwrap()[..],
                "{len} chars"
            );
        }
    }

    #[test]
    fn long_names_are_not_kept_among_the_recent_tags() {
        let long = "y".repeat(KNOWN_NAME_MAX + 1);
        let first = TypeTag::from_name(&long);
        let again = TypeTag::from_name(&long);
        assert_eq!(first, again);
        // Neither kept in the shared table nor in this thread's recent ones:
        // two look-ups give two allocations.
        assert!(!Arc::ptr_eq(&first.0, &again.0));
        let short = TypeTag::from_name("a::Short");
        assert!(Arc::ptr_eq(&short.0, &TypeTag::from_name("a::Short").0));
    }

    #[test]
    fn bytes_travel_as_a_byte_string_of_the_same_wire_form() {
        // What `Encoded` was before its bytes were one byte string.
        #[derive(Serialize, Deserialize)]
        struct AsSequence {
            tag: TypeTag,
            bytes: Vec<u8>,
        }
        let value = Encoded::encode(&"héllo".repeat(100)).unwrap();
        let old = AsSequence {
            tag: value.tag().clone(),
            bytes: value.bytes().to_vec(),
        };
        let wire = codec::encode(&value).unwrap();
        assert_eq!(wire, codec::encode(&old).unwrap());
        let back: Encoded = codec::decode(&wire).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn a_tag_travels_as_its_name_and_decoded_tags_share_one_name() {
        let tag = TypeTag::of::<Vec<u64>>();
        let wire = codec::encode(&tag).unwrap();
        // Variant 0 of the compact form: the name itself.
        assert_eq!(wire[0], 0);
        assert_eq!(wire[1..], codec::encode(&tag.as_str().to_owned()).unwrap());
        let a: TypeTag = codec::decode(&wire).unwrap();
        let b: TypeTag = codec::decode(&wire).unwrap();
        assert_eq!(a, tag);
        assert!(Arc::ptr_eq(&a.0, &b.0), "one allocation for one known name");
        assert!(Arc::ptr_eq(&a.0, &TypeTag::of::<Vec<u64>>().0));
        // A name too long to keep is still a tag, only not in the shared
        // table (a thread's few recent tags may hold it).
        let long = "x".repeat(KNOWN_NAME_MAX + 1);
        let (c, d) = (
            TypeTag::from_known_names(&long),
            TypeTag::from_known_names(&long),
        );
        assert_eq!(c, d);
        assert!(!Arc::ptr_eq(&c.0, &d.0));
        assert_eq!(TypeTag::from_name(&long), c);
        assert!(KNOWN_NAMES.read().unwrap().len() <= KNOWN_NAMES_MAX);
    }

    #[test]
    fn str_and_string_share_a_tag() {
        assert_eq!(TypeTag::of::<&str>(), TypeTag::of::<String>());
        assert_eq!(TypeTag::of::<&&i64>(), TypeTag::of::<i64>());
        let v = Encoded::encode("hi").unwrap();
        assert_eq!(v.decode::<String>("v").unwrap(), "hi");
    }

    #[test]
    fn a_borrowed_key_encodes_as_its_owned_form() {
        use std::path::{Path, PathBuf};
        assert_eq!(
            Encoded::encode_borrowed::<String, str>("ada").unwrap(),
            Encoded::encode(&"ada".to_owned()).unwrap()
        );
        assert_eq!(
            Encoded::encode_borrowed::<Vec<u8>, [u8]>(&[1, 2, 3][..]).unwrap(),
            Encoded::encode(&vec![1_u8, 2, 3]).unwrap()
        );
        assert_eq!(
            Encoded::encode_borrowed::<Vec<i64>, [i64]>(&[-1, 300][..]).unwrap(),
            Encoded::encode(&vec![-1_i64, 300]).unwrap()
        );
        assert_eq!(
            Encoded::encode_borrowed::<Box<u32>, u32>(&7).unwrap(),
            Encoded::encode(&Box::new(7_u32)).unwrap()
        );
        assert_eq!(
            Encoded::encode_borrowed::<PathBuf, Path>(Path::new("/tmp/x")).unwrap(),
            Encoded::encode(&PathBuf::from("/tmp/x")).unwrap()
        );
    }

    #[test]
    fn references_inside_a_type_are_dropped() {
        assert_eq!(
            TypeTag::of::<(&str, &&Vec<&str>, u64)>(),
            TypeTag::of::<(String, Vec<String>, u64)>()
        );
        assert_eq!(
            TypeTag::of::<Option<&mut str>>(),
            TypeTag::of::<Option<String>>()
        );
        // A path that merely contains `str` keeps its name.
        assert_ne!(TypeTag::of::<std::string::String>(), TypeTag::of::<u8>());
        let v = Encoded::encode(&("hi", &vec![1_u64])).unwrap();
        assert_eq!(
            v.decode::<(String, Vec<u64>)>("v").unwrap(),
            ("hi".to_owned(), vec![1])
        );
    }

    #[test]
    fn wrong_type_is_an_error() {
        let v = Encoded::encode(&"ab".to_string()).unwrap();
        let err = v.decode::<i64>("attribute `x`").unwrap_err();
        assert_eq!(
            err.to_string(),
            "attribute `x` holds a value of type `String`, not `i64`"
        );
        assert_eq!(err.to_string().len(), err.to_string().trim().len());
        match err {
            ManagerError::WrongType { stored, .. } => {
                assert_eq!(stored, "alloc::string::String", "fields keep the full tag");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn short_names_cut_only_standard_paths() {
        let cases = [
            ("alloc::string::String", "String"),
            ("alloc::vec::Vec<u8>", "Vec<u8>"),
            ("i64", "i64"),
            ("my_crate::Job", "my_crate::Job"),
            (
                "core::option::Option<alloc::vec::Vec<my_crate::jobs::Job>>",
                "Option<Vec<my_crate::jobs::Job>>",
            ),
            (
                "std::collections::hash::map::HashMap<alloc::string::String, (i32, [u8; 4])>",
                "HashMap<String, (i32, [u8; 4])>",
            ),
            ("&str", "&str"),
        ];
        for (full, short) in cases {
            assert_eq!(short_type_name(full), short, "{full}");
        }
    }

    #[test]
    fn integers_read_as_any_width_they_fit() {
        let v = Encoded::encode(&300_i32).unwrap();
        assert_eq!(v.decode::<i64>("v").unwrap(), 300);
        assert_eq!(v.decode::<u16>("v").unwrap(), 300);
        assert_eq!(v.decode::<usize>("v").unwrap(), 300);
        assert_eq!(v.decode::<i128>("v").unwrap(), 300);
        let err = v.decode::<u8>("v").unwrap_err();
        assert_eq!(
            err.to_string(),
            "v holds the `i32` 300, which `u8` cannot hold"
        );
        let big = Encoded::encode(&u128::MAX).unwrap();
        assert!(matches!(
            big.decode::<i128>("v"),
            Err(ManagerError::DoesNotFit { .. })
        ));
        let negative = Encoded::encode(&-1_i8).unwrap();
        assert!(matches!(
            negative.decode::<u64>("v"),
            Err(ManagerError::DoesNotFit { .. })
        ));
        assert_eq!(negative.decode::<isize>("v").unwrap(), -1);
        // Integers are not floats, and no other type is either.
        assert!(matches!(
            v.decode::<f64>("v"),
            Err(ManagerError::WrongType { .. })
        ));
        assert!(matches!(
            v.decode::<String>("v"),
            Err(ManagerError::WrongType { .. })
        ));
        assert!(matches!(
            Encoded::encode(&1.0_f64).unwrap().decode::<i64>("v"),
            Err(ManagerError::WrongType { .. })
        ));
    }

    #[test]
    fn a_number_matches_an_equal_one_of_another_width() {
        let five = Encoded::encode(&5_i32).unwrap();
        assert!(five.matches(&Encoded::encode(&5_i64).unwrap()));
        assert!(five.matches(&Encoded::encode(&5_u8).unwrap()));
        assert!(!five.matches(&Encoded::encode(&6_i64).unwrap()));
        assert!(!five.matches(&Encoded::encode(&5.0_f64).unwrap()));
        let text = Encoded::encode("5").unwrap();
        assert!(text.matches(&Encoded::encode(&"5".to_owned()).unwrap()));
        assert!(!text.matches(&five));
    }

    #[test]
    fn floats_read_across_widths_only_exactly() {
        let half = Encoded::encode(&0.5_f64).unwrap();
        assert_eq!(half.decode::<f32>("v").unwrap(), 0.5);
        let third = Encoded::encode(&(1.0_f64 / 3.0)).unwrap();
        assert!(matches!(
            third.decode::<f32>("v"),
            Err(ManagerError::DoesNotFit { .. })
        ));
        let single = Encoded::encode(&0.1_f32).unwrap();
        assert_eq!(single.decode::<f64>("v").unwrap(), f64::from(0.1_f32));
        let nan = Encoded::encode(&f64::NAN).unwrap();
        assert!(nan.decode::<f32>("v").unwrap().is_nan());
    }

    #[test]
    fn checked_add_keeps_the_width_and_refuses_overflow() {
        let v = Encoded::encode(&120_i8).unwrap();
        let (sum, reply) = v.checked_add(7, "n").unwrap();
        assert_eq!(reply, 127);
        assert_eq!(sum.tag(), &TypeTag::of::<i8>());
        assert_eq!(sum.decode::<i8>("n").unwrap(), 127);
        let err = sum.checked_add(1, "n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "adding 1 to n (now 127) overflows its type `i8`"
        );
        let unsigned = Encoded::encode(&3_u64).unwrap();
        assert!(matches!(
            unsigned.checked_add(-4, "n"),
            Err(ManagerError::Overflow { .. })
        ));
        assert_eq!(unsigned.checked_add(-3, "n").unwrap().1, 0);
        // The sum fits a u64 but not the i64 an add returns.
        let big = Encoded::encode(&(i64::MAX as u64)).unwrap();
        assert_eq!(
            big.checked_add(1, "n").unwrap_err().to_string(),
            "adding 1 to n (now 9223372036854775807) overflows `i64`, the type an add returns"
        );
        assert!(matches!(
            Encoded::encode("x").unwrap().checked_add(1, "n"),
            Err(ManagerError::WrongType { .. })
        ));
        assert!(matches!(
            Encoded::encode(&1.5_f64).unwrap().checked_add(1, "n"),
            Err(ManagerError::WrongType { .. })
        ));
    }
}

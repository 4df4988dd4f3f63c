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
//! can be read back with `get::<String>` and `("a", &v)` as `(String, Vec<_>)`. Two programs built by the same compiler agree on
//! tags; a type that moves to another module changes its tag.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{CodecError, ManagerError, codec};

/// The name of the Rust type an [`Encoded`] value was encoded from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TypeTag(String);

impl TypeTag {
    /// The tag for `T`.
    pub fn of<T: ?Sized>() -> Self {
        TypeTag(without_references(std::any::type_name::<T>()))
    }

    /// The tag as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TypeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

/// An encoded user value together with the name of its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Encoded {
    tag: TypeTag,
    bytes: Vec<u8>,
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
            bytes: codec::encode(value)?,
        })
    }

    /// Decodes the value as a `T`; `what` names it in errors (for example
    /// "attribute `x` of namespace `cfg`").
    ///
    /// # Errors
    ///
    /// [`ManagerError::WrongType`] if the value was stored as another type, and
    /// [`ManagerError::Undecodable`] if its bytes do not decode as `T`.
    pub fn decode<T: DeserializeOwned>(&self, what: impl fmt::Display) -> Result<T, ManagerError> {
        let wanted = TypeTag::of::<T>();
        if wanted != self.tag {
            return Err(ManagerError::WrongType {
                what: what.to_string(),
                stored: self.tag.0.clone(),
                requested: wanted.0,
            });
        }
        codec::decode(&self.bytes).map_err(|e| ManagerError::Undecodable {
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
        &self.bytes
    }

    /// Approximate heap bytes held by this value.
    pub fn heap_size(&self) -> usize {
        self.bytes.len() + self.tag.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_and_string_share_a_tag() {
        assert_eq!(TypeTag::of::<&str>(), TypeTag::of::<String>());
        assert_eq!(TypeTag::of::<&&i64>(), TypeTag::of::<i64>());
        let v = Encoded::encode("hi").unwrap();
        assert_eq!(v.decode::<String>("v").unwrap(), "hi");
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
            "attribute `x` holds a value of type `alloc::string::String`, not `i64`"
        );
    }
}

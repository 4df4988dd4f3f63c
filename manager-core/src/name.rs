//! Names, chosen by users: of objects ([`ObjectName`], carried in requests
//! as a [`WireName`]) and of custom object types ([`TypeName`]); and object
//! ids, chosen by the registry.
//!
//! # Bad names
//!
//! A name in a request travels unchecked, as a [`WireName`], and the
//! registry checks it: a bad one (empty, too long, with a control
//! character) is [`ManagerError::InvalidName`] for that request, and the
//! connection goes on. Were it checked while the frame is decoded, the
//! whole frame would fail to decode, and the manager would close the
//! connection. Clients check names before sending them anyway
//! ([`ObjectName::new`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ManagerError;

/// The longest object name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// The name of a shared object: 1 to 255 bytes of UTF-8 without control
/// characters.
///
/// Names are checked when built and again when decoded (from a reply), so a
/// peer cannot slip an invalid one in. Requests carry a name as a
/// [`WireName`], which the registry checks (see [bad names](self#bad-names)).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectName(String);

impl ObjectName {
    /// Checks and wraps a name.
    ///
    /// # Errors
    ///
    /// [`ManagerError::InvalidName`] if the name is empty, longer than
    /// [`MAX_NAME_LEN`] bytes or holds a control character.
    pub fn new(name: impl Into<String>) -> Result<Self, ManagerError> {
        let name = name.into();
        let reason = if name.chars().any(char::is_control) {
            Some("it holds a control character")
        } else {
            None
        };
        checked(name, MAX_NAME_LEN, reason).map(ObjectName)
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ObjectName {
    type Error = ManagerError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        ObjectName::new(name)
    }
}

impl TryFrom<&str> for ObjectName {
    type Error = ManagerError;

    fn try_from(name: &str) -> Result<Self, Self::Error> {
        ObjectName::new(name)
    }
}

impl From<ObjectName> for String {
    fn from(name: ObjectName) -> String {
        name.0
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An object name as a request carries it: any string, not yet checked.
///
/// The registry turns it into an [`ObjectName`] with [`WireName::check`]
/// before it uses it, so a bad name fails only its own request (see [bad
/// names](self#bad-names)). It is encoded as a plain string, as an
/// [`ObjectName`] is, and is bounded only by the frame size.
///
/// # Examples
///
/// ```
/// use manager_core::{ManagerError, ObjectName, WireName};
///
/// let sent = WireName::from(ObjectName::new("jobs")?);
/// assert_eq!(sent.check()?.as_str(), "jobs");
///
/// let hostile = WireName::new("x".repeat(300));
/// assert!(matches!(hostile.check(), Err(ManagerError::InvalidName { .. })));
/// # Ok::<(), ManagerError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WireName(String);

impl WireName {
    /// Wraps any string, valid name or not: for requests made by hand,
    /// such as tests of the registry's checks. Clients convert a checked
    /// [`ObjectName`] instead.
    pub fn new(name: impl Into<String>) -> Self {
        WireName(name.into())
    }

    /// The name, checked.
    ///
    /// # Errors
    ///
    /// As [`ObjectName::new`]: [`ManagerError::InvalidName`] if it is
    /// empty, longer than [`MAX_NAME_LEN`] bytes or holds a control
    /// character.
    pub fn check(self) -> Result<ObjectName, ManagerError> {
        ObjectName::new(self.0)
    }

    /// The name as sent, unchecked.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<ObjectName> for WireName {
    fn from(name: ObjectName) -> Self {
        WireName(name.0)
    }
}

/// The longest custom type name accepted, in bytes.
pub const MAX_TYPE_NAME_LEN: usize = 64;

/// The name a custom object type is registered under, for example
/// `"bank.ledger"`: 1 to 64 ASCII letters, digits and `_ - . :`.
///
/// Checked when built. A decoded one is taken as it came, like a
/// [`WireName`], and checked where it is used ([`TypeName::check`]): the
/// registry refuses a bad one in a request with
/// [`ManagerError::InvalidName`] for that request alone, instead of the
/// whole frame failing to decode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TypeName(String);

impl TypeName {
    /// Checks and wraps a type name.
    ///
    /// # Errors
    ///
    /// [`ManagerError::InvalidName`] if it is empty, too long or holds a
    /// character other than ASCII letters, digits and `_ - . :`.
    pub fn new(name: impl Into<String>) -> Result<Self, ManagerError> {
        let name = name.into();
        let reason = if name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
        {
            None
        } else {
            Some("a type name holds only ASCII letters, digits and `_ - . :`")
        };
        checked(name, MAX_TYPE_NAME_LEN, reason).map(TypeName)
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks a name that came over the wire, as [`TypeName::new`] does.
    ///
    /// # Errors
    ///
    /// As [`TypeName::new`].
    pub fn check(&self) -> Result<(), ManagerError> {
        if self.0.len() <= MAX_TYPE_NAME_LEN && TypeName::new(self.0.as_str()).is_ok() {
            return Ok(());
        }
        TypeName::new(
            self.0
                .chars()
                .take(MAX_TYPE_NAME_LEN + 1)
                .collect::<String>(),
        )
        .map(drop)
    }
}

impl TryFrom<String> for TypeName {
    type Error = ManagerError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        TypeName::new(name)
    }
}

impl From<TypeName> for String {
    fn from(name: TypeName) -> String {
        name.0
    }
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `name` if it is not empty, at most `max` bytes long and has no other
/// `problem`; else the error that says which.
fn checked(name: String, max: usize, problem: Option<&str>) -> Result<String, ManagerError> {
    let reason = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.len() > max {
        Some(format!("it is longer than {max} bytes"))
    } else {
        problem.map(str::to_owned)
    };
    match reason {
        Some(reason) => Err(ManagerError::InvalidName {
            name: name.chars().take(64).collect(),
            reason,
        }),
        None => Ok(name),
    }
}

/// The registry's id for an object, unique for the life of a manager: a
/// removed object's id is never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectId(pub u64);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;

    #[test]
    fn accepts_ordinary_names() {
        assert_eq!(
            ObjectName::new("jobs/queue-1").unwrap().as_str(),
            "jobs/queue-1"
        );
    }

    #[test]
    fn rejects_bad_names() {
        assert!(ObjectName::new("").is_err());
        assert!(ObjectName::new("a\nb").is_err());
        assert!(ObjectName::new("x".repeat(256)).is_err());
    }

    #[test]
    fn type_names_are_checked() {
        assert_eq!(
            TypeName::new("bank.ledger").unwrap().as_str(),
            "bank.ledger"
        );
        assert!(TypeName::new("").is_err());
        assert!(TypeName::new("has space").is_err());
        assert!(TypeName::new("x".repeat(65)).is_err());
        // Decoded as it came; its check is what refuses it.
        for bad in ["bad name".to_owned(), "x".repeat(100_000), String::new()] {
            let bytes = codec::encode(&bad).unwrap();
            let decoded = codec::decode::<TypeName>(&bytes).unwrap();
            let err = decoded.check().unwrap_err();
            assert!(matches!(err, ManagerError::InvalidName { .. }), "{err}");
            assert!(err.to_string().len() < 400, "{err}");
        }
        TypeName::new("bank.ledger").unwrap().check().unwrap();
    }

    #[test]
    fn decoding_checks_the_name() {
        let bytes = codec::encode(&String::new()).unwrap();
        assert!(codec::decode::<ObjectName>(&bytes).is_err());
    }

    #[test]
    fn a_wire_name_decodes_unchecked_and_is_checked_later() {
        for bad in [String::new(), "x".repeat(300), "bad\u{7}name".to_owned()] {
            let bytes = codec::encode(&bad).unwrap();
            let name = codec::decode::<WireName>(&bytes).unwrap();
            assert_eq!(name.as_str(), bad);
            assert!(matches!(
                name.check(),
                Err(ManagerError::InvalidName { .. })
            ));
        }
    }

    #[test]
    fn a_wire_name_is_encoded_as_an_object_name_is() {
        let name = ObjectName::new("jobs").unwrap();
        assert_eq!(
            codec::encode(&WireName::from(name.clone())).unwrap(),
            codec::encode(&name).unwrap()
        );
    }
}

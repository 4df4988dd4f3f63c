//! Object names, chosen by users, and object ids, chosen by the registry.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ManagerError;

/// The longest object name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// The name of a shared object: 1 to 255 bytes of UTF-8 without control
/// characters.
///
/// Names are checked when built and again when decoded, so a peer cannot slip
/// an invalid one into the registry.
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
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > MAX_NAME_LEN {
            Some("it is longer than 255 bytes")
        } else if name.chars().any(char::is_control) {
            Some("it holds a control character")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(ManagerError::InvalidName {
                name: name.chars().take(64).collect(),
                reason: reason.to_owned(),
            }),
            None => Ok(ObjectName(name)),
        }
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
    fn decoding_checks_the_name() {
        let bytes = codec::encode(&String::new()).unwrap();
        assert!(codec::decode::<ObjectName>(&bytes).is_err());
    }
}

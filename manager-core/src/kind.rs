//! The kinds of shared object a manager can hold.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of a shared object, as named in the registry.
///
/// Asking the registry for an existing name with a different kind is an error
/// ([`crate::ManagerError::KindMismatch`]), never a silent reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    /// A bag of named attributes, like Python's `Manager().Namespace()`.
    Namespace,
}

impl ObjectKind {
    /// The lowercase name used in tables and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Namespace => "namespace",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

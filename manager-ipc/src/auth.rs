//! [`AuthKey`]: the shared secret a client must prove it holds.
//!
//! Proofs are HMAC-SHA256 over both sides' random nonces (see
//! [`manager_core::protocol`]); the key itself never crosses the wire and is
//! never printed (its `Debug` is redacted).

use std::fmt;

use hmac::{Hmac, Mac};
use manager_core::protocol::NONCE_LEN;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Length of a key made by [`AuthKey::random`].
pub const RANDOM_KEY_LEN: usize = 32;

/// The secret shared by a manager and its clients.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(Vec<u8>);

/// A key that could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthKeyError {
    /// An empty key protects nothing.
    #[error("an authkey must not be empty")]
    Empty,
    /// A hex string that is not hex.
    #[error("the authkey is not valid hex: {0}")]
    NotHex(String),
    /// The operating system's random source failed.
    #[error("generate a random authkey: {0}")]
    Random(String),
}

impl AuthKey {
    /// A new key of [`RANDOM_KEY_LEN`] random bytes.
    ///
    /// # Errors
    ///
    /// [`AuthKeyError::Random`] if the OS's random source fails.
    pub fn random() -> Result<Self, AuthKeyError> {
        let mut key = vec![0_u8; RANDOM_KEY_LEN];
        getrandom::fill(&mut key).map_err(|e| AuthKeyError::Random(e.to_string()))?;
        Ok(AuthKey(key))
    }

    /// A key from bytes the application chose.
    ///
    /// # Errors
    ///
    /// [`AuthKeyError::Empty`] for an empty key.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, AuthKeyError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(AuthKeyError::Empty);
        }
        Ok(AuthKey(bytes))
    }

    /// A key from its hex form, as [`AuthKey::to_hex`] writes it.
    ///
    /// # Errors
    ///
    /// [`AuthKeyError::NotHex`] or [`AuthKeyError::Empty`].
    pub fn from_hex(hex: &str) -> Result<Self, AuthKeyError> {
        let bytes = hex::decode(hex.trim()).map_err(|e| AuthKeyError::NotHex(e.to_string()))?;
        Self::from_bytes(bytes)
    }

    /// The key in hex, for passing to a worker's environment or a file.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// HMAC-SHA256 of `label ‖ first ‖ second` under this key.
    pub(crate) fn mac(&self, label: &[u8], first: &[u8], second: &[u8]) -> Vec<u8> {
        self.hmac(label, first, second)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Whether `mac` is the HMAC of `label ‖ first ‖ second`, compared in
    /// constant time.
    pub(crate) fn verify(&self, label: &[u8], first: &[u8], second: &[u8], mac: &[u8]) -> bool {
        self.hmac(label, first, second).verify_slice(mac).is_ok()
    }

    fn hmac(&self, label: &[u8], first: &[u8], second: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(label);
        mac.update(first);
        mac.update(second);
        mac
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthKey(<redacted>)")
    }
}

/// A fresh random nonce for one handshake.
pub(crate) fn nonce() -> std::io::Result<[u8; NONCE_LEN]> {
    let mut nonce = [0_u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_redacted_debug() {
        let key = AuthKey::random().unwrap();
        assert_eq!(AuthKey::from_hex(&key.to_hex()).unwrap(), key);
        assert_eq!(format!("{key:?}"), "AuthKey(<redacted>)");
        assert!(AuthKey::from_hex("").is_err());
        assert!(AuthKey::from_hex("zz").is_err());
    }

    #[test]
    fn mac_depends_on_key_and_order() {
        let a = AuthKey::from_bytes(*b"a").unwrap();
        let b = AuthKey::from_bytes(*b"b").unwrap();
        let mac = a.mac(b"l", b"1", b"2");
        assert!(a.verify(b"l", b"1", b"2", &mac));
        assert!(!b.verify(b"l", b"1", b"2", &mac));
        assert!(!a.verify(b"l", b"2", b"1", &mac));
    }
}

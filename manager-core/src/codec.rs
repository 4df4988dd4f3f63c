//! The codec: the one module that turns values into bytes and back.
//!
//! Everything that crosses a process boundary (frames, handshake messages,
//! user values, launcher arguments) goes through [`encode`] and [`decode`], so
//! the wire format could be swapped here without touching any other file.
//!
//! Today the format is bincode 2 over serde, with varint integers and a limit
//! on how much a single decode may claim, so a hostile length prefix inside a
//! frame cannot make the decoder allocate more than the frame could hold.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The most a single decode may claim for containers, in bytes.
const DECODE_LIMIT: usize = 1 << 30;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Encoding or decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The value could not be encoded.
    #[error("encode failed: {0}")]
    Encode(String),
    /// The bytes are not a valid encoding of the expected type.
    #[error("decode failed: {0}")]
    Decode(String),
    /// The bytes held a valid value followed by bytes that belong to nothing.
    #[error("decode failed: {extra} trailing bytes after the value")]
    TrailingBytes {
        /// How many bytes were left over.
        extra: usize,
    },
}

/// Encodes `value` into a new buffer.
///
/// # Errors
///
/// [`CodecError::Encode`] if serde reports an error (for example a map whose
/// length is unknown up front is fine, but a custom `Serialize` may fail).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out` and returns how many bytes it took.
///
/// # Errors
///
/// As [`encode`]. On error `out` may hold a partial encoding after its old end.
pub fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    bincode::serde::encode_into_std_write(value, out, config())
        .map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes a `T` that must fill `bytes` exactly.
///
/// # Errors
///
/// [`CodecError::Decode`] if the bytes are not a `T`, and
/// [`CodecError::TrailingBytes`] if bytes are left over after it.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - used,
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = (1_u8, "two".to_string(), vec![3_i64, -4]);
        assert_eq!(
            decode::<(u8, String, Vec<i64>)>(&encode(&v).unwrap()).unwrap(),
            v
        );
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = encode(&5_u32).unwrap();
        bytes.push(0);
        assert_eq!(
            decode::<u32>(&bytes),
            Err(CodecError::TrailingBytes { extra: 1 })
        );
    }

    #[test]
    fn truncated_input_is_an_error() {
        let bytes = encode(&"hello".to_string()).unwrap();
        assert!(matches!(
            decode::<String>(&bytes[..3]),
            Err(CodecError::Decode(_))
        ));
    }

    #[test]
    fn huge_claimed_length_does_not_allocate() {
        // A varint length prefix claiming u64::MAX elements, then nothing.
        let bytes = [253_u8, 255, 255, 255, 255, 255, 255, 255, 255];
        assert!(decode::<Vec<u64>>(&bytes).is_err());
        assert!(decode::<String>(&bytes).is_err());
    }
}

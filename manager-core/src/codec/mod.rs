//! The codec: the one module that turns values into bytes and back.
//!
//! Everything that crosses a process boundary (frames, handshake messages,
//! user values, launcher arguments) goes through [`encode`] and [`decode`], so
//! the wire format could be swapped here without touching any other file.
//!
//! Today the format is bincode 2 over serde, with varint integers. A
//! value's type tag is written whole once per encoding and by reference
//! after that (see `tags.rs`).
//!
//! # Hostile input
//!
//! Decoding never allocates more than the input holds, whatever lengths
//! the input claims: strings and byte buffers are read as borrows of the
//! input and copied from it (see `borrowing.rs`), and serde's collections
//! reserve only a cautious amount before their items arrive. A length that
//! claims more than the bytes that follow is [`CodecError::Truncated`]; one
//! over [`DECODE_LIMIT`] is [`CodecError::TooLong`].

mod borrowing;
mod bound;
mod shared;
pub(crate) mod tags;

pub use bound::reply_len_bound;
pub use shared::{SHARE_MIN, Splices};
pub(crate) use shared::{offer, share, withdraw};

use std::marker::PhantomData;

use bincode::error::{DecodeError, IntegerType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::value::short_type_name;

/// The most one decode may claim in all, in bytes: a sanity bound far
/// above any frame. What keeps a decode's allocations within its input is
/// that strings and buffers are borrowed (see the module docs).
pub const DECODE_LIMIT: usize = 1 << 30;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Encoding or decoding failed.
///
/// A decode error says, in the words of a Rust user, which type was expected
/// and what the bytes held instead; it never shows the serialization
/// library's own vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The value could not be encoded.
    #[error("encode failed: {0}")]
    Encode(String),
    /// The bytes ended before the value did.
    #[error("expected a `{expected}`, but the value ended {} early", bytes(*.missing))]
    Truncated {
        /// The type being decoded, as a Rust user writes it.
        expected: String,
        /// How many more bytes the decoder needed at least.
        missing: usize,
    },
    /// The bytes held a valid value followed by bytes that belong to nothing.
    #[error(
        "expected a `{expected}`, but {} left over after the value",
        were(bytes(*.extra), *.extra)
    )]
    TrailingBytes {
        /// The type decoded, as a Rust user writes it.
        expected: String,
        /// How many bytes were left over.
        extra: usize,
    },
    /// A length inside the bytes claims more than a decode may take.
    #[error("expected a `{expected}`, but a length in it exceeds the limit of {limit} bytes")]
    TooLong {
        /// The type being decoded, as a Rust user writes it.
        expected: String,
        /// The most a single decode may claim.
        limit: usize,
    },
    /// The bytes are not a valid encoding of the expected type.
    #[error("expected a `{expected}`, but the bytes hold {found}")]
    Invalid {
        /// The type being decoded, as a Rust user writes it.
        expected: String,
        /// What came instead, for example "an invalid UTF-8 string".
        found: String,
    },
}

/// "1 byte", "5 bytes".
fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_owned()
    } else {
        format!("{n} bytes")
    }
}

/// "1 byte was", "5 bytes were".
fn were(counted: String, n: usize) -> String {
    if n == 1 {
        format!("{counted} was")
    } else {
        format!("{counted} were")
    }
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
    let _tags = tags::Scope::enter();
    bincode::serde::encode_into_std_write(value, out, config())
        .map_err(|e| CodecError::Encode(e.to_string()))
}

/// Appends the encoding of `value` to `out`, except the bytes of large
/// shared values in it, which go in `splices` (see `shared.rs`): the
/// encoding is `out`'s new bytes with the splices' bytes inserted where
/// they say. Returns the length of the whole encoding.
///
/// # Errors
///
/// As [`encode`]. On error `out` and `splices` may hold a partial encoding
/// after their old ends.
pub fn encode_into_spliced<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
    splices: &mut Splices,
) -> Result<usize, CodecError> {
    let _splicing = shared::splicing();
    let _tags = tags::Scope::enter();
    let mut writer = shared::SpliceWriter {
        out,
        splices,
        len: 0,
    };
    bincode::serde::encode_into_writer(value, &mut writer, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    Ok(writer.len)
}

/// Where [`encode_small_first`] put an encoding.
#[derive(Debug, PartialEq, Eq)]
pub enum SmallFirst {
    /// It fit the slice: its first this many bytes.
    InSlice(usize),
    /// It did not fit: the whole encoding, in a vector.
    Spilled(Vec<u8>),
}

/// Encodes `value` into `buf` while it fits, moving to a vector the moment
/// it does not: one pass of `value`'s `Serialize` either way, so a value
/// whose `Serialize` may only run once is encoded right too.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_small_first<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut [u8],
) -> Result<SmallFirst, CodecError> {
    let _tags = tags::Scope::enter();
    let mut writer = SpillWriter {
        small: buf,
        len: 0,
        spilled: None,
    };
    bincode::serde::encode_into_writer(value, &mut writer, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    Ok(match writer.spilled {
        Some(bytes) => SmallFirst::Spilled(bytes),
        None => SmallFirst::InSlice(writer.len),
    })
}

/// A writer into a slice that moves what it holds into a vector once a
/// write would overflow the slice.
struct SpillWriter<'a> {
    small: &'a mut [u8],
    len: usize,
    spilled: Option<Vec<u8>>,
}

impl bincode::enc::write::Writer for SpillWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        if let Some(spilled) = &mut self.spilled {
            spilled.extend_from_slice(bytes);
            return Ok(());
        }
        let end = self.len + bytes.len();
        if let Some(room) = self.small.get_mut(self.len..end) {
            room.copy_from_slice(bytes);
            self.len = end;
        } else {
            let mut spilled = Vec::with_capacity(end.max(64).saturating_mul(2));
            spilled.extend_from_slice(&self.small[..self.len]);
            spilled.extend_from_slice(bytes);
            self.spilled = Some(spilled);
        }
        Ok(())
    }
}

/// How many bytes [`encode`] would take for `value`, without building them.
///
/// # Errors
///
/// As [`encode`].
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> Result<usize, CodecError> {
    let _tags = tags::Scope::enter();
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    Ok(size.bytes_written)
}

/// Decodes a `T` that must fill `bytes` exactly.
///
/// # Errors
///
/// [`CodecError::Truncated`] if the bytes end before the value,
/// [`CodecError::TrailingBytes`] if bytes are left over after it,
/// [`CodecError::TooLong`] if a length in them claims more than the limit,
/// and [`CodecError::Invalid`] if they are not a `T` for another reason.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let expected = || short_type_name(std::any::type_name::<T>());
    let seed = borrowing::BorrowingSeed::<T>(PhantomData);
    let _tags = tags::Scope::enter();
    let (value, used) = bincode::serde::seed_decode_from_slice(seed, bytes, config())
        .map_err(|e| describe(e, expected()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes {
            expected: expected(),
            extra: bytes.len() - used,
        });
    }
    Ok(value)
}

/// Decodes a `T` that must fill `bytes` exactly, as [`decode`], except
/// that a large byte string in it (a stored value of at least
/// [`SHARE_MIN`] bytes and half the input) keeps a slice of `bytes`
/// instead of a copy (see `shared.rs`).
///
/// # Errors
///
/// As [`decode`].
pub fn decode_shared<T: DeserializeOwned>(bytes: &bytes::Bytes) -> Result<T, CodecError> {
    if bytes.len() < SHARE_MIN {
        return decode(bytes);
    }
    let _source = shared::sourcing(bytes);
    decode(bytes)
}

/// Says what went wrong in a decode of `expected`, in our words.
fn describe(error: DecodeError, expected: String) -> CodecError {
    let found = match error {
        DecodeError::UnexpectedEnd { additional } => {
            return CodecError::Truncated {
                expected,
                missing: additional,
            };
        }
        DecodeError::Io { additional, .. } => {
            return CodecError::Truncated {
                expected,
                missing: additional,
            };
        }
        DecodeError::LimitExceeded => {
            return CodecError::TooLong {
                expected,
                limit: DECODE_LIMIT,
            };
        }
        DecodeError::InvalidIntegerType {
            expected: wanted, ..
        } => {
            format!("an integer too large for `{}`", integer_name(wanted))
        }
        DecodeError::NonZeroTypeIsZero { non_zero_type } => {
            format!(
                "a zero where a non-zero `{}` belongs",
                integer_name(non_zero_type)
            )
        }
        DecodeError::UnexpectedVariant {
            type_name, found, ..
        } => format!(
            "variant number {found}, which `{}` does not have",
            short_type_name(type_name)
        ),
        DecodeError::Utf8 { .. } => "an invalid UTF-8 string".to_owned(),
        DecodeError::InvalidCharEncoding(_) => "an invalid `char`".to_owned(),
        DecodeError::InvalidBooleanValue(v) => format!("{v} where a `bool` (0 or 1) belongs"),
        DecodeError::ArrayLengthMismatch { required, found } => {
            format!("an array of {found} items where {required} belong")
        }
        DecodeError::OutsideUsizeRange(n) => format!("{n}, more than a `usize` holds here"),
        DecodeError::EmptyEnum { type_name } => format!(
            "a value of `{}`, which has no values",
            short_type_name(type_name)
        ),
        DecodeError::InvalidDuration { secs, nanos } => {
            format!("an invalid duration ({secs} s and {nanos} ns)")
        }
        DecodeError::InvalidSystemTime { .. } => "an invalid system time".to_owned(),
        DecodeError::CStringNulError { position } => {
            format!("a C string with a nul byte at {position}")
        }
        // The type's own `Deserialize` refused the value, in its own words.
        DecodeError::Other(message) => format!("a value its `Deserialize` refused: {message}"),
        DecodeError::OtherString(message) => {
            format!("a value its `Deserialize` refused: {message}")
        }
        DecodeError::Serde(_) => "a type whose `Deserialize` needs a self-describing format, \
             which this codec is not"
            .to_owned(),
        _ => "an invalid encoding".to_owned(),
    };
    CodecError::Invalid { expected, found }
}

/// An integer type's name as a Rust user writes it.
fn integer_name(t: IntegerType) -> &'static str {
    match t {
        IntegerType::U8 => "u8",
        IntegerType::U16 => "u16",
        IntegerType::U32 => "u32",
        IntegerType::U64 => "u64",
        IntegerType::U128 => "u128",
        IntegerType::Usize => "usize",
        IntegerType::I8 => "i8",
        IntegerType::I16 => "i16",
        IntegerType::I32 => "i32",
        IntegerType::I64 => "i64",
        IntegerType::I128 => "i128",
        IntegerType::Isize => "isize",
        _ => "integer",
    }
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
    fn encoded_len_is_the_encoding_s_length() {
        let v = (
            1_u8,
            "two".to_string(),
            vec![3_i64, -4_000_000],
            Some(1_u128 << 90),
        );
        assert_eq!(encoded_len(&v).unwrap(), encode(&v).unwrap().len());
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = encode(&5_u32).unwrap();
        bytes.push(0);
        let err = decode::<u32>(&bytes).unwrap_err();
        assert_eq!(
            err,
            CodecError::TrailingBytes {
                expected: "u32".into(),
                extra: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "expected a `u32`, but 1 byte was left over after the value"
        );
        bytes.extend([0; 4]);
        assert_eq!(
            decode::<u32>(&bytes).unwrap_err().to_string(),
            "expected a `u32`, but 5 bytes were left over after the value"
        );
    }

    #[test]
    fn truncated_input_is_an_error() {
        let bytes = encode(&"hello".to_string()).unwrap();
        let err = decode::<String>(&bytes[..3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a `String`, but the value ended 3 bytes early"
        );
        let bytes = encode(&(1_u8, 7_u64 << 60)).unwrap();
        assert_eq!(
            decode::<(u8, u64)>(&bytes[..2]).unwrap_err().to_string(),
            "expected a `(u8, u64)`, but the value ended 8 bytes early"
        );
    }

    #[test]
    fn invalid_contents_are_named_in_plain_words() {
        let mut bytes = encode(&"hi".to_string()).unwrap();
        bytes[1] = 0xff;
        assert_eq!(
            decode::<String>(&bytes).unwrap_err().to_string(),
            "expected a `String`, but the bytes hold an invalid UTF-8 string"
        );
        assert_eq!(
            decode::<bool>(&[7]).unwrap_err().to_string(),
            "expected a `bool`, but the bytes hold 7 where a `bool` (0 or 1) belongs"
        );
        assert_eq!(
            decode::<Option<Vec<u8>>>(&[9]).unwrap_err().to_string(),
            "expected a `Option<Vec<u8>>`, but the bytes hold variant number 9, \
             which `Option<T>` does not have"
        );
        // A varint that announces a u32 where a u16 belongs.
        assert_eq!(
            decode::<u16>(&[252, 0, 0, 1, 0]).unwrap_err().to_string(),
            "expected a `u16`, but the bytes hold an integer too large for `u16`"
        );
    }

    #[test]
    fn huge_claimed_length_does_not_allocate() {
        // A varint length prefix claiming u64::MAX elements, then nothing.
        let bytes = [253_u8, 255, 255, 255, 255, 255, 255, 255, 255];
        assert!(decode::<Vec<u64>>(&bytes).is_err());
        assert!(decode::<String>(&bytes).is_err());
        // A string that claims 2 GiB.
        let bytes = [253_u8, 0, 0, 0, 128, 0, 0, 0, 0];
        assert_eq!(
            decode::<String>(&bytes).unwrap_err().to_string(),
            "expected a `String`, but a length in it exceeds the limit of 1073741824 bytes"
        );
    }

    /// This process's peak of reserved address space, in KiB.
    fn vm_peak_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmPeak:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmPeak in /proc/self/status")
    }

    /// A varint length prefix claiming `len`, then one byte.
    fn claim(len: u32) -> Vec<u8> {
        let mut bytes = vec![252];
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.push(b'x');
        bytes
    }

    #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
    enum Nested {
        Text { name: String },
        Blob(#[serde(with = "serde_bytes")] Vec<u8>),
        Pair(u8, Option<String>),
    }

    #[test]
    fn a_claimed_length_reserves_nothing_the_input_does_not_hold() {
        let before = vm_peak_kib();
        let almost_a_gib = (1 << 30) - 64;
        for _ in 0..4 {
            let err = decode::<String>(&claim(almost_a_gib)).unwrap_err();
            assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
            let err = decode::<serde_bytes::ByteBuf>(&claim(almost_a_gib)).unwrap_err();
            assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
            // The same claims nested in options, maps, enums and structs.
            let mut bytes = vec![1];
            bytes.extend(claim(almost_a_gib));
            assert!(decode::<Option<String>>(&bytes).is_err());
            let mut bytes = vec![1];
            bytes.extend(claim(almost_a_gib));
            let err = decode::<std::collections::HashMap<String, u8>>(&bytes).unwrap_err();
            assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
            for variant in 0..3_u8 {
                let mut bytes = vec![variant];
                if variant == 2 {
                    bytes.extend([7, 1]);
                }
                bytes.extend(claim(almost_a_gib));
                let err = decode::<Nested>(&bytes).unwrap_err();
                assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
            }
        }
        // Each claim is a gigabyte; other tests' threads may add an
        // allocator arena (64 MiB) or two to the peak meanwhile.
        let grown_mib = vm_peak_kib().saturating_sub(before) / 1024;
        assert!(
            grown_mib < 512,
            "decoding 9-byte inputs reserved {grown_mib} MiB"
        );
    }

    #[test]
    fn borrowed_decoding_round_trips_every_shape() {
        let values = vec![
            Nested::Text {
                name: "ünïcode".into(),
            },
            Nested::Blob(vec![0, 1, 2, 255]),
            Nested::Pair(3, Some(String::new())),
            Nested::Pair(4, None),
        ];
        let map: std::collections::BTreeMap<String, Vec<Nested>> =
            [("k".to_string(), values)].into_iter().collect();
        let value = (
            map,
            Some(vec!["a".to_string(), "bc".into()]),
            'z',
            1_u128 << 100,
        );
        let bytes = encode(&value).unwrap();
        assert_eq!(decode::<(_, _, char, u128)>(&bytes).unwrap(), value);
    }
}

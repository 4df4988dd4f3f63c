//! [`ValueBytes`]: the bytes of an [`Encoded`](super::Encoded) value, kept
//! inline when they are short, so that the values most programs share
//! (numbers, short strings and keys) cost no allocation to encode, decode,
//! clone or drop; longer ones are shared (`Bytes`), so a reply that hands
//! out a stored value holds the stored bytes rather than a copy.

use std::fmt;
use std::hash::{Hash, Hasher};

use ::bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec;

/// The most bytes kept inline: with the length beside them, a third of
/// the size of a `Bytes`, so a `ValueBytes` is no larger than one.
pub(crate) const INLINE: usize = 23;

/// The bytes of one encoded value.
#[derive(Clone)]
pub(crate) enum ValueBytes {
    /// At most [`INLINE`] bytes, in place.
    Inline(Small),
    /// More, shared.
    Shared(Bytes),
}

impl ValueBytes {
    /// A copy of `bytes`.
    pub(crate) fn copy_from(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            ValueBytes::Inline(Small {
                len: bytes.len() as u8,
                data: inline(bytes),
            })
        } else {
            ValueBytes::Shared(Bytes::copy_from_slice(bytes))
        }
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            ValueBytes::Inline(Small { len, data }) => &data[..usize::from(*len)],
            ValueBytes::Shared(bytes) => bytes,
        }
    }
}

/// A short value's bytes, word-aligned.
///
/// Aligned so that moving a value (out of its decoder, into a sequence or
/// a map) copies whole words. Unaligned, as a length byte and 30 bytes
/// after the enum's tag, the compiler moved the odd-sized head with two
/// overlapping 4-byte copies, once per temporary on the way: each load
/// spanned two stores just made, and waited for them to retire (a
/// store-forwarding stall). Decoding a `Vec` of 256 small values took
/// 99–104 ns a value that way, and 44–50 ns aligned (a throwaway program,
/// alternating runs on one CPU).
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub(crate) struct Small {
    data: [u8; INLINE],
    len: u8,
}

/// `bytes` (at most [`INLINE`] of them) in place, zero-padded.
///
/// Built from whole words read from `bytes` and written eight bytes at a
/// time, not by a fill then a copy of a few bytes, for the same reason as
/// [`Small`]'s alignment: the value is moved right after, with word loads
/// that each lie within one of these stores (10–15% faster decoding than
/// a fill and a copy).
fn inline(bytes: &[u8]) -> [u8; INLINE] {
    debug_assert!(bytes.len() <= INLINE);
    let mut data = [0; INLINE];
    let mut chunks = data.chunks_mut(8).zip(bytes.chunks(8));
    for (to, from) in &mut chunks {
        let word = word_of(from);
        to.copy_from_slice(&word.to_le_bytes()[..to.len()]);
    }
    data
}

/// Up to eight bytes as a little-endian word, zero-padded, without a
/// store to memory.
fn word_of(bytes: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(whole) => u64::from_le_bytes(whole),
        Err(_) => bytes
            .iter()
            .rev()
            .fold(0, |word, &b| (word << 8) | u64::from(b)),
    }
}

impl From<Vec<u8>> for ValueBytes {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            Self::copy_from(&bytes)
        } else {
            ValueBytes::Shared(Bytes::from(bytes))
        }
    }
}

impl PartialEq for ValueBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ValueBytes {}

impl Hash for ValueBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for ValueBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As `Bytes` shows itself: b"..." with escapes.
        write!(f, "b\"{}\"", self.as_slice().escape_ascii())
    }
}

/// A byte string on the wire, as `Bytes` and `serde_bytes` write one. A
/// long shared one may be spliced into a reply rather than copied
/// ([`codec::encode_into_spliced`](crate::codec::encode_into_spliced)).
impl Serialize for ValueBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ValueBytes::Shared(bytes) if bytes.len() >= codec::SHARE_MIN => {
                codec::offer(bytes);
                let done = serializer.serialize_bytes(bytes);
                codec::withdraw();
                done
            }
            _ => serializer.serialize_bytes(self.as_slice()),
        }
    }
}

impl<'de> Deserialize<'de> for ValueBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ValueBytes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }

            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<ValueBytes, E> {
                Ok(ValueBytes::copy_from(bytes))
            }

            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                bytes: &'de [u8],
            ) -> Result<ValueBytes, E> {
                // A long value read from a frame held as `Bytes` keeps a
                // slice of it ([`codec::decode_shared`]).
                Ok(match codec::share(bytes) {
                    Some(shared) => ValueBytes::Shared(shared),
                    None => ValueBytes::copy_from(bytes),
                })
            }

            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<ValueBytes, E> {
                Ok(ValueBytes::from(bytes))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ValueBytes, A::Error> {
                // Never more up front than a small amount, whatever the
                // sequence claims.
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                Ok(ValueBytes::from(bytes))
            }
        }

        deserializer.deserialize_byte_buf(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bytes_are_inline_and_long_ones_shared_and_both_compare_by_content() {
        let short = ValueBytes::from(vec![1, 2, 3]);
        assert!(matches!(short, ValueBytes::Inline(Small { len: 3, .. })));
        let edge = ValueBytes::copy_from(&[7; INLINE]);
        assert!(matches!(edge, ValueBytes::Inline(_)));
        let long = ValueBytes::copy_from(&[7; INLINE + 1]);
        assert!(matches!(long, ValueBytes::Shared(_)));
        // Equal content is equal whatever the storage.
        let shared_short = ValueBytes::Shared(Bytes::from_static(&[1, 2, 3]));
        assert_eq!(short, shared_short);
        let state = std::collections::hash_map::RandomState::new();
        let h = |b: &ValueBytes| {
            use std::hash::BuildHasher;
            state.hash_one(b)
        };
        assert_eq!(h(&short), h(&shared_short));
        // No larger than the `Bytes` it replaces.
        assert!(std::mem::size_of::<ValueBytes>() <= std::mem::size_of::<Bytes>());
    }

    #[test]
    fn the_wire_form_is_a_byte_string_either_way() {
        for len in [0, 5, INLINE, INLINE + 1, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ours = codec::encode(&ValueBytes::from(data.clone())).unwrap();
            assert_eq!(ours, codec::encode(&Bytes::from(data.clone())).unwrap());
            let back: ValueBytes = codec::decode(&ours).unwrap();
            assert_eq!(back.as_slice(), &data[..]);
        }
    }
}

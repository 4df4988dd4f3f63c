//! [`reply_len_bound`]: how many bytes a small reply takes at most, known
//! without encoding it, so a reply's size is counted without a pass of
//! the encoder that only measures.

use crate::reply::{Reply, ReplyFrame};
use crate::value::Encoded;

/// The most bytes bincode's varint encoding of a `u64` takes.
const U64: usize = 9;
/// The most bytes an enum's variant index (a `u32`) takes.
const VARIANT: usize = 5;

/// At least as many bytes as [`encode`](super::encode) takes for `frame`,
/// for the replies of one or two values and the unit-like ones most calls
/// get; `None` for the rest (lists, errors, registry replies), whose size
/// [`encoded_len`](super::encoded_len) measures.
pub fn reply_len_bound(frame: &ReplyFrame) -> Option<usize> {
    let Ok(reply) = &frame.result else {
        return None;
    };
    let payload = match reply {
        Reply::Done => 0,
        Reply::Bool(_) => 1,
        Reply::Count(_) | Reply::Integer(_) => U64,
        Reply::Value(value) => value_bound(value),
        Reply::MaybeValue(value) => 1 + value.as_ref().map_or(0, value_bound),
        Reply::Pair(a, b) => value_bound(a) + value_bound(b),
        Reply::Swapped { current, .. } => 2 + current.as_ref().map_or(0, value_bound),
        Reply::Delivery { value, .. } => U64 + value_bound(value),
        Reply::Woken { .. } => 1 + 2 * U64,
        _ => return None,
    };
    // The request id, `Ok`, the reply's variant, then what it holds.
    Some(U64 + VARIANT + VARIANT + payload)
}

/// The most an [`Encoded`] takes: its tag, written whole or by reference
/// (a variant and a name, or a variant and an index), then its bytes.
fn value_bound(value: &Encoded) -> usize {
    let tag = VARIANT + U64 + value.tag().as_str().len();
    let bytes = U64 + value.bytes().len();
    tag + bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encoded_len;
    use crate::request::RequestId;

    /// Checks the bound of `result` as the answer to request `id`.
    fn check_as(id: u64, result: Reply) {
        let frame = ReplyFrame {
            id: RequestId(id),
            result: Ok(result),
        };
        let bound = reply_len_bound(&frame).expect("a small reply has a bound");
        let exact = encoded_len(&frame).expect("encodes");
        assert!(
            bound >= exact,
            "bound {bound} under the exact {exact} for {frame:?}"
        );
    }

    fn check(result: Reply) {
        check_as(u64::MAX, result);
    }

    #[test]
    fn the_bound_is_never_under_the_encoded_size() {
        let small = Encoded::encode(&7_i64).expect("encode");
        let long = Encoded::encode(&"x".repeat(100_000)).expect("encode");
        let named = Encoded::encode(&vec![(String::from("k"), u64::MAX); 3]).expect("encode");
        for value in [small, long, named] {
            check(Reply::Value(value.clone()));
            check(Reply::MaybeValue(Some(value.clone())));
            check(Reply::Pair(value.clone(), value.clone()));
            check(Reply::Swapped {
                swapped: true,
                current: Some(value.clone()),
            });
            check(Reply::Delivery {
                receipt: u64::MAX,
                value,
            });
        }
        check(Reply::Done);
        check(Reply::Bool(true));
        check(Reply::Count(u64::MAX));
        check(Reply::Integer(i64::MIN));
        check(Reply::MaybeValue(None));
        check(Reply::Woken {
            notified: true,
            holds: u64::MAX,
            wait: RequestId(u64::MAX),
        });
    }

    /// Lengths at the varint thresholds (250/251, 2^16) and a type name
    /// longer than 250 bytes, under distinct tags and a repeated one.
    #[test]
    fn the_bound_holds_at_the_varint_thresholds() {
        type Long = Vec<
            Option<(
                String,
                String,
                String,
                String,
                String,
                String,
                String,
                String,
                String,
                String,
                String,
                String,
            )>,
        >;
        let long_tag = Encoded::encode(&Long::default()).expect("encode");
        assert!(long_tag.tag().as_str().len() > 250, "{}", long_tag.tag());
        for n in [
            0, 1, 248, 249, 250, 251, 252, 65_533, 65_534, 65_535, 65_536,
        ] {
            let text = Encoded::encode(&"y".repeat(n)).expect("encode");
            for id in [0, 250, 251, u64::from(u32::MAX), u64::MAX] {
                for result in [
                    Reply::Value(text.clone()),
                    Reply::Pair(text.clone(), long_tag.clone()),
                    Reply::Pair(long_tag.clone(), long_tag.clone()),
                    Reply::Delivery {
                        receipt: id,
                        value: text.clone(),
                    },
                ] {
                    check_as(id, result);
                }
            }
        }
    }

    #[test]
    fn lists_and_errors_have_none() {
        let frame = ReplyFrame {
            id: RequestId(1),
            result: Ok(Reply::Values(Vec::new())),
        };
        assert_eq!(reply_len_bound(&frame), None);
        let frame = ReplyFrame {
            id: RequestId(1),
            result: Err(crate::ManagerError::ShuttingDown),
        };
        assert_eq!(reply_len_bound(&frame), None);
    }
}

//! [`ArrayState`]: a fixed-length sequence, like Python's `Manager().Array()`.
//!
//! The length is set when the array is made and never changes. Indices
//! follow Python ([`super::sequence`]): negative ones count from the end,
//! and [`ArrayRequest::GetRange`] clamps like a slice. A
//! [`ArrayRequest::SetRange`] must fit inside the array; one that does not
//! fails whole and changes nothing. One that does and is large is applied
//! in slices ([`ObjectContext::in_slices`]), the array taking no other
//! request meanwhile.

use manager_core::inspect::ObjectDetail;
use manager_core::reply::Reply;
use manager_core::request::ArrayRequest;
use manager_core::{Encoded, ManagerError};

use super::sequence::{resolve_index, slice_range};
use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// One array's elements.
#[derive(Debug)]
pub struct ArrayState {
    items: Vec<Encoded>,
}

impl ArrayState {
    /// An array holding `items`.
    pub fn new(items: Vec<Encoded>) -> Self {
        ArrayState { items }
    }

    /// Applies one request; `what` names the array in errors (for example
    /// "array `pixels`").
    ///
    /// # Errors
    ///
    /// [`ManagerError::IndexOutOfRange`] for an index outside the array, and
    /// for a `set_range` that does not fit: its `index` is then the first
    /// position past the end that would have been written (or the `start`
    /// itself, if that is outside).
    pub fn apply(
        &mut self,
        request: ArrayRequest,
        what: impl Fn() -> String,
    ) -> Result<Reply, ManagerError> {
        let len = self.items.len();
        let out_of_range = |index: i64| ManagerError::IndexOutOfRange {
            what: what(),
            index,
            len: len as u64,
        };
        Ok(match request {
            ArrayRequest::Len => Reply::Count(len as u64),
            ArrayRequest::Get { index } => {
                let i = resolve_index(index, len).ok_or_else(|| out_of_range(index))?;
                Reply::Value(self.items[i].clone())
            }
            ArrayRequest::Set { index, value } => {
                let i = resolve_index(index, len).ok_or_else(|| out_of_range(index))?;
                self.items[i] = value;
                Reply::Done
            }
            ArrayRequest::GetRange { start, stop } => {
                Reply::Values(self.items[slice_range(start, stop, len)].to_vec())
            }
            ArrayRequest::SetRange { start, values } => {
                let range = fitting_range(start, values.len(), len).map_err(out_of_range)?;
                for (slot, value) in self.items[range].iter_mut().zip(values) {
                    *slot = value;
                }
                Reply::Done
            }
            ArrayRequest::Snapshot => Reply::Values(self.items.clone()),
        })
    }
}

/// The positions `count` values written from `start` cover in an array of
/// `len`, or the index to report if they do not fit. A start equal to the
/// length is allowed for writing nothing.
fn fitting_range(start: i64, count: usize, len: usize) -> Result<std::ops::Range<usize>, i64> {
    let first = if start < 0 {
        start.checked_add(len as i64)
    } else {
        Some(start)
    };
    let first = match first {
        Some(first) if (0..=len as i64).contains(&first) => first as usize,
        _ => return Err(start),
    };
    let end = first.saturating_add(count);
    if end > len {
        return Err(len as i64);
    }
    Ok(first..end)
}

/// The state of a new array (`ObjectSpec::Array`).
pub(super) fn array(_: &super::Making<'_>, items: Vec<Encoded>) -> Result<ArrayState, ManagerError> {
    Ok(ArrayState::new(items))
}

impl ObjectState for ArrayState {
    type Request = ArrayRequest;

    fn report(&self) -> ObjectDetail {
        super::items_report(&self.items)
    }

    fn handle(&mut self, request: ArrayRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        let result = match request {
            ArrayRequest::SetRange { start, values } => {
                let len = self.items.len();
                match fitting_range(start, values.len(), len) {
                    Ok(range) => {
                        let mut at = range.start;
                        return ctx.in_slices(
                            self,
                            caller,
                            values,
                            move |array, slice| {
                                let end = at + slice.len();
                                for (slot, value) in array.items[at..end].iter_mut().zip(slice) {
                                    *slot = value;
                                }
                                at = end;
                            },
                            |_| Ok(Reply::Done),
                        );
                    }
                    // As `apply` words it.
                    Err(_) => self.apply(ArrayRequest::SetRange { start, values }, || ctx.what()),
                }
            }
            request => self.apply(request, || ctx.what()),
        };
        caller.reply(result);
    }

    fn removed(&mut self, _ctx: &mut ObjectContext<'_, Self>) {
        super::list::discard_items(std::mem::take(&mut self.items));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use manager_core::request::ObjectRequest;

    fn v(x: i64) -> Encoded {
        Encoded::encode(&x).unwrap()
    }

    fn vs(xs: &[i64]) -> Vec<Encoded> {
        xs.iter().map(|&x| v(x)).collect()
    }

    fn ap(array: &mut ArrayState, request: ArrayRequest) -> Result<Reply, ManagerError> {
        array.apply(request, || "array `a`".to_owned())
    }

    fn snapshot(array: &mut ArrayState) -> Vec<Encoded> {
        match ap(array, ArrayRequest::Snapshot) {
            Ok(Reply::Values(values)) => values,
            other => panic!("snapshot: {other:?}"),
        }
    }

    #[test]
    fn get_and_set_with_negative_indices() {
        let mut array = ArrayState::new(vs(&[0, 1, 2, 3]));
        assert_eq!(ap(&mut array, ArrayRequest::Len), Ok(Reply::Count(4)));
        assert_eq!(
            ap(&mut array, ArrayRequest::Get { index: -1 }),
            Ok(Reply::Value(v(3)))
        );
        ap(
            &mut array,
            ArrayRequest::Set {
                index: -4,
                value: v(9),
            },
        )
        .unwrap();
        assert_eq!(snapshot(&mut array), vs(&[9, 1, 2, 3]));
        let err = ap(&mut array, ArrayRequest::Get { index: 4 }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "index 4 is out of range for array `a` of length 4"
        );
        assert!(matches!(
            ap(
                &mut array,
                ArrayRequest::Set {
                    index: -5,
                    value: v(0)
                }
            ),
            Err(ManagerError::IndexOutOfRange { index: -5, .. })
        ));
    }

    #[test]
    fn get_range_clamps_like_a_slice() {
        let mut array = ArrayState::new(vs(&[0, 1, 2, 3]));
        assert_eq!(
            ap(
                &mut array,
                ArrayRequest::GetRange {
                    start: Some(-3),
                    stop: Some(100)
                }
            ),
            Ok(Reply::Values(vs(&[1, 2, 3])))
        );
        assert_eq!(
            ap(
                &mut array,
                ArrayRequest::GetRange {
                    start: Some(3),
                    stop: Some(1)
                }
            ),
            Ok(Reply::Values(vec![]))
        );
    }

    #[test]
    fn set_range_must_fit_and_changes_nothing_otherwise() {
        let mut array = ArrayState::new(vs(&[0, 1, 2, 3, 4]));
        let mut set_range = |start, xs: &[i64]| {
            ap(
                &mut array,
                ArrayRequest::SetRange {
                    start,
                    values: vs(xs),
                },
            )
        };
        assert_eq!(set_range(1, &[10, 20]), Ok(Reply::Done));
        assert_eq!(set_range(-2, &[30, 40]), Ok(Reply::Done));
        assert_eq!(set_range(5, &[]), Ok(Reply::Done));
        assert!(matches!(
            set_range(4, &[7, 8]),
            Err(ManagerError::IndexOutOfRange {
                index: 5,
                len: 5,
                ..
            })
        ));
        assert!(matches!(
            set_range(-6, &[7]),
            Err(ManagerError::IndexOutOfRange { index: -6, .. })
        ));
        assert!(matches!(
            set_range(6, &[]),
            Err(ManagerError::IndexOutOfRange { index: 6, .. })
        ));
        assert!(matches!(
            set_range(0, &[1, 2, 3, 4, 5, 6]),
            Err(ManagerError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            set_range(i64::MIN, &[1]),
            Err(ManagerError::IndexOutOfRange { .. })
        ));
        assert_eq!(snapshot(&mut array), vs(&[0, 10, 20, 30, 40]));
    }

    #[test]
    fn fitting_ranges() {
        assert_eq!(fitting_range(0, 3, 3), Ok(0..3));
        assert_eq!(fitting_range(-1, 1, 3), Ok(2..3));
        assert_eq!(fitting_range(3, 0, 3), Ok(3..3));
        assert_eq!(fitting_range(-3, 0, 3), Ok(0..0));
        assert_eq!(fitting_range(2, 2, 3), Err(3));
        assert_eq!(fitting_range(-4, 0, 3), Err(-4));
        assert_eq!(fitting_range(0, 1, 0), Err(0));
        assert_eq!(fitting_range(0, 0, 0), Ok(0..0));
    }

    /// A large set_range is applied in slices and lands whole; one that
    /// does not fit changes nothing.
    #[actix::test]
    async fn a_large_set_range_lands_whole_or_not_at_all() {
        use crate::actor::BULK_SLICE;
        use crate::objects::testing::{Conn, Harness};
        use manager_core::ObjectSpec;

        let len = BULK_SLICE * 3 + 7;
        let zeros = vec![v(0); len];
        let (_harness, array) = Harness::start(ObjectSpec::Array { items: zeros }).await;
        let mut conn = Conn::new(1);
        let values: Vec<Encoded> = (1..len as i64).map(v).collect();
        let too_long: Vec<Encoded> = (0..len as i64).map(v).collect();
        let ids = conn
            .send_batch(
                &array,
                vec![
                    ObjectRequest::Array(ArrayRequest::SetRange {
                        start: 1,
                        values: too_long,
                    }),
                    ObjectRequest::Array(ArrayRequest::SetRange {
                        start: -(len as i64) + 1,
                        values: values.clone(),
                    }),
                    ObjectRequest::Array(ArrayRequest::Get { index: -1 }),
                ],
            )
            .await;
        let next = conn.next().await;
        assert_eq!(next.id, ids[0]);
        assert!(matches!(
            next.result,
            Err(ManagerError::IndexOutOfRange { .. })
        ));
        for (id, expected) in [
            (ids[1], Reply::Done),
            (ids[2], Reply::Value(v(len as i64 - 1))),
        ] {
            let next = conn.next().await;
            assert_eq!((next.id, next.result), (id, Ok(expected)));
        }
        let mut whole = vec![v(0)];
        whole.extend(values);
        assert!(
            conn.call(&array, ObjectRequest::Array(ArrayRequest::Snapshot))
                .await
                == Ok(Reply::Values(whole))
        );
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{ArrayRequest};
        use manager_core::ObjectSpec;

        use crate::objects::testing::{Conn, Harness, ask, int as v};

        let items = vec![v(1), v(2), v(3)];
        let (_h, array) = Harness::start(ObjectSpec::Array { items }).await;
        let c = &mut Conn::new(1);
        assert_eq!(ask(c, &array, ArrayRequest::len()).await, 3);
        ask(c, &array, ArrayRequest::get(0)).await;
        ask(c, &array, ArrayRequest::set(0, v(7))).await;
        ask(c, &array, ArrayRequest::get_range(Some(0), Some(2))).await;
        ask(c, &array, ArrayRequest::set_range(1, vec![v(8)])).await;
        ask(c, &array, ArrayRequest::snapshot()).await;
    }
}

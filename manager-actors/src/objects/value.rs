//! [`ValueState`]: one shared value, like Python's `Manager().Value()`,
//! plus the atomic updates Python lacks.
//!
//! Every request is applied whole before the next one starts, so
//! [`ValueRequest::Swap`], [`ValueRequest::CompareAndSwap`] and
//! [`ValueRequest::Add`] are atomic with respect to every other client:
//! four processes doing 500 adds each end at exactly 2,000. Python's
//! `v.value += 1` is a read and a write, and loses updates.

use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::ValueRequest;
use manager_core::{Encoded, ManagerError};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::Caller;

/// One shared value.
#[derive(Debug)]
pub struct ValueState {
    value: Encoded,
}

impl ValueState {
    /// A value holding `initial`.
    pub fn new(initial: Encoded) -> Self {
        ValueState { value: initial }
    }

    /// Applies one request; `what` names the value in errors (for example
    /// "value `hits`").
    ///
    /// # Errors
    ///
    /// For `add`: [`ManagerError::WrongType`] if the value is not an integer,
    /// and [`ManagerError::Overflow`] if the sum overflows. A failed request
    /// changes nothing.
    pub fn apply(
        &mut self,
        request: ValueRequest,
        what: impl Fn() -> String,
    ) -> Result<Reply, ManagerError> {
        Ok(match request {
            ValueRequest::Get => Reply::Value(self.value.clone()),
            ValueRequest::Set { value } => {
                self.value = value;
                Reply::Done
            }
            ValueRequest::Swap { value } => Reply::Value(std::mem::replace(&mut self.value, value)),
            ValueRequest::CompareAndSwap { expected, new } => {
                if self.value.matches(&expected) {
                    self.value = new;
                    Reply::Swapped {
                        swapped: true,
                        current: None,
                    }
                } else {
                    Reply::Swapped {
                        swapped: false,
                        current: Some(self.value.clone()),
                    }
                }
            }
            ValueRequest::Add { delta } => {
                let (stored, sum) = super::add(Some(&self.value), delta, super::Lazy(&what))?;
                self.value = stored;
                Reply::Integer(sum)
            }
        })
    }
}

/// The state of a new value (`ObjectSpec::Value`).
pub(super) fn value(_: &super::Making<'_>, initial: Encoded) -> Result<ValueState, ManagerError> {
    Ok(ValueState::new(initial))
}

impl ObjectState for ValueState {
    type Request = ValueRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Value,
            bytes_held: self.value.heap_size() as u64,
            ..ObjectDetail::default()
        }
    }

    fn handle(&mut self, request: ValueRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        caller.reply(self.apply(request, || ctx.what()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: i64) -> Encoded {
        Encoded::encode(&x).unwrap()
    }

    fn ap(value: &mut ValueState, request: ValueRequest) -> Result<Reply, ManagerError> {
        value.apply(request, || "value `v`".to_owned())
    }

    #[test]
    fn get_set_swap() {
        let mut value = ValueState::new(v(1));
        assert_eq!(ap(&mut value, ValueRequest::Get), Ok(Reply::Value(v(1))));
        ap(&mut value, ValueRequest::Set { value: v(2) }).unwrap();
        assert_eq!(
            ap(&mut value, ValueRequest::Swap { value: v(3) }),
            Ok(Reply::Value(v(2)))
        );
        assert_eq!(ap(&mut value, ValueRequest::Get), Ok(Reply::Value(v(3))));
    }

    #[test]
    fn compare_and_swap_reports_what_is_there() {
        let mut value = ValueState::new(v(1));
        assert_eq!(
            ap(
                &mut value,
                ValueRequest::CompareAndSwap {
                    expected: v(1),
                    new: v(2)
                }
            ),
            Ok(Reply::Swapped {
                swapped: true,
                current: None
            })
        );
        assert_eq!(
            ap(
                &mut value,
                ValueRequest::CompareAndSwap {
                    expected: v(1),
                    new: v(3)
                }
            ),
            Ok(Reply::Swapped {
                swapped: false,
                current: Some(v(2))
            })
        );
        // Numbers compare across widths: a u8 1 is an i64 1. Other types
        // compare on type and bytes.
        let mut value = ValueState::new(v(1));
        assert_eq!(
            ap(
                &mut value,
                ValueRequest::CompareAndSwap {
                    expected: Encoded::encode(&1_u8).unwrap(),
                    new: v(3)
                }
            ),
            Ok(Reply::Swapped {
                swapped: true,
                current: None
            })
        );
        assert_eq!(
            ap(
                &mut value,
                ValueRequest::CompareAndSwap {
                    expected: Encoded::encode("3").unwrap(),
                    new: v(4)
                }
            ),
            Ok(Reply::Swapped {
                swapped: false,
                current: Some(v(3))
            })
        );
    }

    #[test]
    fn add_refuses_other_types_and_overflow() {
        let mut value = ValueState::new(v(i64::MAX - 1));
        assert_eq!(
            ap(&mut value, ValueRequest::Add { delta: 1 }),
            Ok(Reply::Integer(i64::MAX))
        );
        let err = ap(&mut value, ValueRequest::Add { delta: 1 }).unwrap_err();
        assert_eq!(
            err,
            ManagerError::Overflow {
                what: "value `v`".into(),
                current: i64::MAX.to_string(),
                delta: 1,
                stored: "i64".into(),
                bound: "i64".into(),
            }
        );
        assert_eq!(
            ap(&mut value, ValueRequest::Add { delta: i64::MIN }),
            Ok(Reply::Integer(-1))
        );

        let mut text = ValueState::new(Encoded::encode("hi").unwrap());
        let err = ap(&mut text, ValueRequest::Add { delta: 1 }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "value `v` holds a value of type `String`, not `i64`"
        );
        assert_eq!(
            ap(&mut text, ValueRequest::Get),
            Ok(Reply::Value(Encoded::encode("hi").unwrap()))
        );
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{ValueRequest};
        use manager_core::ObjectSpec;

        use crate::objects::testing::{Conn, Harness, ask, int as v};

        let (_h, value) = Harness::start(ObjectSpec::Value { initial: v(1) }).await;
        let c = &mut Conn::new(1);
        ask(c, &value, ValueRequest::get()).await;
        ask(c, &value, ValueRequest::set(v(2))).await;
        ask(c, &value, ValueRequest::swap(v(3))).await;
        ask(c, &value, ValueRequest::compare_and_swap(v(3), v(4))).await;
        assert_eq!(ask(c, &value, ValueRequest::add(1)).await, 5);
    }
}

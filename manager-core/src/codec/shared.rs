//! Large values without copies: a value decoded from a frame keeps the
//! frame's bytes instead of a copy of them, and a stored value encoded into
//! a reply is written from its own bytes instead of being copied into the
//! reply's buffer.
//!
//! Both happen only for values of at least [`SHARE_MIN`] bytes, where a copy
//! costs more than the bookkeeping (and, for a 16 MiB value, touching 16 MiB
//! of fresh memory that a page fault at a time holds a thread up).
//!
//! # Decoding: [`decode_shared`](super::decode_shared)
//!
//! While a frame held as `Bytes` is decoded, it is this thread's *source*: a
//! long byte string read from it becomes a slice of the source (sharing its
//! allocation) rather than a copy. A slice keeps the whole frame alive, so
//! one is taken only when the value is at least half of the frame. The
//! frame's own allocation is its size when it was read into a buffer of
//! its own, and a little more when it arrived whole behind other frames
//! (the bridge's `FrameBuffer`), so a value shared this way holds at most
//! about twice its own size.
//!
//! # Encoding: [`encode_into_spliced`](super::encode_into_spliced)
//!
//! While a message is encoded this way, a long shared byte string offers
//! itself as a *splice*: the writer records where its bytes go and a clone
//! of its `Bytes` (a reference count), and writes only the rest. The caller
//! writes the pieces in order. The offer is matched to the write by address
//! and length, so bytes that are not the offered value are always copied.

use std::cell::{Cell, RefCell};

use bytes::Bytes;

/// The fewest bytes a value shares or splices rather than copies.
pub const SHARE_MIN: usize = 64 * 1024;

thread_local! {
    /// The frame being decoded on this thread by `decode_shared`.
    static SOURCE: RefCell<Option<Bytes>> = const { RefCell::new(None) };
    /// Whether an `encode_into_spliced` is under way on this thread.
    static SPLICING: Cell<bool> = const { Cell::new(false) };
    /// The value that offered itself for the next write.
    static OFFER: RefCell<Option<Bytes>> = const { RefCell::new(None) };
}

/// Makes `source` this thread's source until the guard drops (then the one
/// before it, if any, is back).
pub(super) fn sourcing(source: &Bytes) -> SourceGuard {
    let previous = SOURCE.with(|s| s.replace(Some(source.clone())));
    SourceGuard { previous }
}

/// Puts the previous source back.
pub(super) struct SourceGuard {
    previous: Option<Bytes>,
}

impl Drop for SourceGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        SOURCE.with(|s| *s.borrow_mut() = previous);
    }
}

/// `bytes` as a slice of this thread's source, if they lie within it and
/// are long enough, and at least half of it, to be worth keeping it for.
pub(crate) fn share(bytes: &[u8]) -> Option<Bytes> {
    if bytes.len() < SHARE_MIN {
        return None;
    }
    SOURCE.with(|s| {
        let source = s.borrow();
        let source = source.as_ref()?;
        let start = source.as_ptr() as usize;
        let at = bytes.as_ptr() as usize;
        let within = at >= start && at + bytes.len() <= start + source.len();
        (within && bytes.len() * 2 >= source.len()).then(|| source.slice_ref(bytes))
    })
}

/// Starts splicing on this thread until the guard drops.
pub(super) fn splicing() -> SplicingGuard {
    SplicingGuard {
        previous: SPLICING.with(|s| s.replace(true)),
    }
}

/// Ends splicing (or goes back to the encoding it was nested in).
pub(super) struct SplicingGuard {
    previous: bool,
}

impl Drop for SplicingGuard {
    fn drop(&mut self) {
        SPLICING.with(|s| s.set(self.previous));
        OFFER.with(|o| o.borrow_mut().take());
    }
}

/// Offers `bytes` for the next write, if a spliced encoding is under way
/// and they are long enough; the offer lasts until [`withdraw`].
pub(crate) fn offer(bytes: &Bytes) {
    if bytes.len() >= SHARE_MIN && SPLICING.with(Cell::get) {
        OFFER.with(|o| *o.borrow_mut() = Some(bytes.clone()));
    }
}

/// Ends an offer that was not taken.
pub(crate) fn withdraw() {
    if SPLICING.with(Cell::get) {
        OFFER.with(|o| o.borrow_mut().take());
    }
}

/// The offered value, if `written` is exactly its bytes (same address and
/// length), taken off offer.
pub(super) fn take_offer(written: &[u8]) -> Option<Bytes> {
    OFFER.with(|o| {
        let mut offer = o.borrow_mut();
        let matches = offer
            .as_ref()
            .is_some_and(|b| b.as_ptr() == written.as_ptr() && b.len() == written.len());
        if matches { offer.take() } else { None }
    })
}

/// Where a spliced encoding went: the bytes written into the caller's
/// buffer, with shared pieces to be inserted among them.
///
/// The whole encoding is the buffer's new bytes with each splice's bytes
/// inserted at its offset, in order; [`Splices::pieces`] yields it in
/// order.
#[derive(Debug, Default, Clone)]
pub struct Splices {
    /// Offsets into the caller's buffer, each with the bytes that go there.
    at: Vec<(usize, Bytes)>,
    /// The bytes of all splices.
    len: usize,
}

impl Splices {
    /// No splices.
    pub fn new() -> Self {
        Splices::default()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// The bytes of all splices together.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Forgets every splice.
    pub fn clear(&mut self) {
        self.at.clear();
        self.len = 0;
    }

    /// Forgets the splices inserted after byte `len` of the buffer (the
    /// buffer was cut back to `len`). One inserted exactly at `len` stays:
    /// it ends what came before the cut.
    pub fn truncate(&mut self, len: usize) {
        while self.at.last().is_some_and(|(at, _)| *at > len) {
            if let Some((_, bytes)) = self.at.pop() {
                self.len -= bytes.len();
            }
        }
    }

    pub(super) fn push(&mut self, at: usize, bytes: Bytes) {
        self.len += bytes.len();
        self.at.push((at, bytes));
    }

    /// The whole output in order: runs of `buf` and the splices among them.
    pub fn pieces<'a>(&'a self, buf: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        let tail = self.at.last().map_or(0, |(at, _)| *at);
        let mut from = 0;
        self.at
            .iter()
            .flat_map(move |(at, bytes)| {
                let run = &buf[from..*at];
                from = *at;
                [run, &bytes[..]]
            })
            .chain(std::iter::once(&buf[tail..]))
            .filter(|piece| !piece.is_empty())
    }
}

/// A writer that appends to a vector, except an offered value's bytes,
/// which it records as a splice.
pub(super) struct SpliceWriter<'a> {
    pub(super) out: &'a mut Vec<u8>,
    pub(super) splices: &'a mut Splices,
    /// Bytes written or spliced.
    pub(super) len: usize,
}

impl bincode::enc::write::Writer for SpliceWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.len += bytes.len();
        match take_offer(bytes) {
            Some(shared) => self.splices.push(self.out.len(), shared),
            None => self.out.extend_from_slice(bytes),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::Encoded;
    use crate::codec::{self, decode_shared, encode_into_spliced};

    fn within(inner: &[u8], outer: &[u8]) -> bool {
        let (start, at) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
        at >= start && at + inner.len() <= start + outer.len()
    }

    #[test]
    fn a_large_value_keeps_its_frame_s_bytes_and_a_small_share_is_copied() {
        let big = Encoded::encode(&vec![7_u8; 4 * SHARE_MIN]).unwrap();
        let frame = Bytes::from(codec::encode(&(1_u32, &big)).unwrap());
        let (_, back): (u32, Encoded) = decode_shared(&frame).unwrap();
        assert_eq!(back, big);
        assert!(within(back.bytes(), &frame), "the value was copied");

        // Two values of a third of the frame each: copied, so that neither
        // keeps the other's bytes alive.
        let third = Encoded::encode(&vec![1_u8; 2 * SHARE_MIN]).unwrap();
        let frame = Bytes::from(codec::encode(&(&third, &third, &third)).unwrap());
        let (a, _, _): (Encoded, Encoded, Encoded) = decode_shared(&frame).unwrap();
        assert_eq!(a, third);
        assert!(
            !within(a.bytes(), &frame),
            "a third of the frame was shared"
        );

        // Below the threshold, and through plain `decode`, always copied.
        let small = Encoded::encode(&vec![2_u8; SHARE_MIN / 2]).unwrap();
        let frame = Bytes::from(codec::encode(&small).unwrap());
        let back: Encoded = decode_shared(&frame).unwrap();
        assert!(!within(back.bytes(), &frame));
        let frame = Bytes::from(codec::encode(&big).unwrap());
        let back: Encoded = codec::decode(&frame).unwrap();
        assert!(!within(back.bytes(), &frame));
        // And no source is left behind for a later decode.
        assert!(share(&frame).is_none());
    }

    #[test]
    fn a_spliced_encoding_is_the_plain_encoding_in_pieces() {
        let big = Encoded::encode(&vec![9_u8; 2 * SHARE_MIN]).unwrap();
        let other = Encoded::encode(&vec![3_u8; SHARE_MIN + 5]).unwrap();
        let small = Encoded::encode(&"short").unwrap();
        let message = (5_u8, &big, &small, vec![&other, &big], 6_u64);
        let plain = codec::encode(&message).unwrap();

        let mut out = vec![0xAA; 3];
        let mut splices = Splices::new();
        let len = encode_into_spliced(&message, &mut out, &mut splices).unwrap();
        assert_eq!(len, plain.len());
        assert_eq!(splices.at.len(), 3, "each large value spliced");
        assert_eq!(out.len() + splices.len(), 3 + plain.len());
        let whole: Vec<u8> = splices.pieces(&out).flatten().copied().collect();
        assert_eq!(&whole[..3], &[0xAA; 3]);
        assert_eq!(&whole[3..], &plain[..]);

        // Cut back to where it began, nothing of it is left.
        out.truncate(3);
        splices.truncate(3);
        assert!(splices.is_empty());
        // Outside a spliced encoding, nothing is offered or taken.
        assert_eq!(codec::encode(&message).unwrap(), plain);
        assert!(take_offer(big.bytes()).is_none());
    }

    #[test]
    fn bytes_equal_to_an_offer_elsewhere_are_copied() {
        // A plain `Vec<u8>` with the same content as a large value is
        // written beside it: only the value's own bytes are spliced.
        let content = vec![4_u8; SHARE_MIN];
        let big = Encoded::encode(&content).unwrap();
        let message = (&big, serde_bytes::ByteBuf::from(big.bytes().to_vec()));
        let mut out = Vec::new();
        let mut splices = Splices::new();
        encode_into_spliced(&message, &mut out, &mut splices).unwrap();
        assert_eq!(splices.at.len(), 1);
        let whole: Vec<u8> = splices.pieces(&out).flatten().copied().collect();
        assert_eq!(whole, codec::encode(&message).unwrap());
    }
}

//! The checks that the fuzz targets in `fuzz/` run on arbitrary bytes,
//! shared with `tests/fuzz_corpus_replays_cleanly.rs`, which replays the
//! targets' corpus with `cargo test`.
//!
//! Each check takes any bytes and returns. Errors are the expected answer
//! to bad input; a check panics only on a bug: a decoder that panics, a
//! decoded value that does not survive a round trip, a number read that
//! breaks the family rules, a handshake that does not end or that lets in
//! a peer who cannot hold the key. What a check cannot see, an allocation
//! far larger than its input, libFuzzer's `-malloc_limit_mb` catches.
//!
//! [`TARGETS`] names each check as its fuzz target is named: the corpus of
//! a target lives in `fuzz/corpus/<name>/`.

use std::fmt::Debug;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use manager::AuthKey;
use manager_core::reply::ReplyFrame;
use manager_core::request::RequestFrame;
use manager_core::{Encoded, TypeTag, codec};
use manager_ipc::frame::{DEFAULT_MAX_FRAME, FrameBuffer, HANDSHAKE_MAX_FRAME, HEADER_LEN};
use manager_ipc::handshake::{self, Session};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream, ReadBuf};

/// A check: any bytes in, a panic only on a bug.
pub type Check = fn(&[u8]);

/// Every check, under the name of its fuzz target.
pub const TARGETS: &[(&str, Check)] = &[
    ("frame_reader", frame_reader),
    ("handshake", handshake),
    ("request_decode", request_decode),
    ("reply_decode", reply_decode),
    ("value_read", value_read),
];

/// What a frame buffer may hold beyond a few times the bytes it read.
const SPARE_CAPACITY: usize = 64 * 1024;

/// How long a handshake over an in-memory stream may take before the check
/// calls it a hang.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// The key both handshake sides hold: fixed, so a run can be repeated.
const KEY: &[u8] = b"the fuzzers' fixed authkey";

/// Decodes the bytes as a [`RequestFrame`]; one that decodes must survive a
/// round trip.
pub fn request_decode(data: &[u8]) {
    round_trip::<RequestFrame>(data);
}

/// Decodes the bytes as a [`ReplyFrame`]; one that decodes must survive a
/// round trip.
pub fn reply_decode(data: &[u8]) {
    round_trip::<ReplyFrame>(data);
}

/// Decodes `data` as a `T`; a value that decodes must encode again and
/// decode to itself. (Its encoding may be longer than `data`: a
/// `Duration` whose nanoseconds exceed a second decodes normalised, and
/// its larger number of seconds can take more bytes.)
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) {
    let Ok(value) = codec::decode::<T>(data) else {
        return;
    };
    let bytes = codec::encode(&value).expect("a decoded value encodes");
    let back = codec::decode::<T>(&bytes).expect("a re-encoded value decodes");
    assert_eq!(back, value, "a value changed in a round trip");
}

/// Feeds the bytes through a [`FrameBuffer`] with the manager's default
/// limit, in reads cut by the first byte (0: each read takes all it can;
/// n > 0: reads of 1 to 4n bytes, of sizes drawn from a generator seeded
/// with n), and decodes every complete frame as a request and as a reply.
///
/// The buffer's memory must follow the bytes that arrived, whatever a
/// header announces: a few times what was read, plus a constant.
pub fn frame_reader(data: &[u8]) {
    let Some((&cut, data)) = data.split_first() else {
        return;
    };
    runtime().block_on(async {
        let mut reader = ChunkedReader::new(data, cut);
        let mut buf = FrameBuffer::new(DEFAULT_MAX_FRAME);
        let mut framed = 0;
        loop {
            loop {
                match buf.next_frame() {
                    Ok(Some(frame)) => {
                        assert!(frame.len() <= DEFAULT_MAX_FRAME, "a frame over the limit");
                        framed += HEADER_LEN + frame.len();
                        assert!(framed <= data.len(), "frames hold more than was read");
                        request_decode(&frame);
                        reply_decode(&frame);
                    }
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
            match buf.fill(&mut reader).await {
                Ok(true) => {}
                Ok(false) | Err(_) => return,
            }
            let received = data.len() - reader.data.len();
            assert!(
                buf.capacity() <= 4 * received + SPARE_CAPACITY,
                "{} bytes of buffer for {received} bytes read",
                buf.capacity()
            );
        }
    });
}

/// Runs each side of the handshake against a peer that sends the bytes
/// (after the first) and closes: the manager's side, as if the bytes were
/// the client's messages, then the client's side, as if they were the
/// manager's. The first byte sets the in-memory stream's capacity (1 to
/// 256 bytes), so messages arrive split. Both sides must end, and neither
/// may succeed: the bytes cannot prove the key for a fresh random nonce.
pub fn handshake(data: &[u8]) {
    let Some((&capacity, data)) = data.split_first() else {
        return;
    };
    let capacity = usize::from(capacity) + 1;
    let key = AuthKey::from_bytes(KEY).expect("a non-empty key");
    runtime().block_on(async {
        let session = Session {
            connection: 1,
            manager: 2,
            max_frame: DEFAULT_MAX_FRAME,
        };
        let accepted = against_peer(data, capacity, async |stream| {
            let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
            handshake::accept(stream, &mut buf, &key, session, || Ok(())).await
        })
        .await;
        assert!(
            accepted.is_err(),
            "the manager's side accepted a peer without the key"
        );
        let initiated = against_peer(data, capacity, async |stream| {
            let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
            handshake::initiate(stream, &mut buf, &key).await
        })
        .await;
        assert!(
            initiated.is_err(),
            "the client's side accepted a manager without the key: {initiated:?}"
        );
    });
}

/// Runs `side` on one end of an in-memory stream whose other end writes
/// `data`, closes its writing half, and reads whatever `side` sends. Panics
/// if `side` has not ended within [`HANDSHAKE_DEADLINE`].
async fn against_peer<T>(
    data: &[u8],
    capacity: usize,
    side: impl AsyncFnOnce(&mut DuplexStream) -> T,
) -> T {
    let (mut ours, theirs) = tokio::io::duplex(capacity);
    let (mut their_reads, mut their_writes) = tokio::io::split(theirs);
    let ours = async move {
        let result = side(&mut ours).await;
        // Dropping our end ends the peer's reads and fails its writes.
        drop(ours);
        result
    };
    let writes = async move {
        let _ = their_writes.write_all(data).await;
        let _ = their_writes.shutdown().await;
    };
    let reads = async move {
        let mut sink = Vec::new();
        let _ = their_reads.read_to_end(&mut sink).await;
    };
    let run = async { tokio::join!(ours, writes, reads).0 };
    tokio::time::timeout(HANDSHAKE_DEADLINE, run)
        .await
        .expect("the handshake ended")
}

/// The tags a [`value_read`] input picks from with its first byte: every
/// number type, and a few that are not numbers.
const TAGS: &[&str] = &[
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "f32",
    "f64",
    "bool",
    "alloc::string::String",
    "alloc::vec::Vec<u8>",
];

/// Reads a user value out of arbitrary bytes, as the manager and the
/// proxies do: as every integer width, as floats, as a `String`, with
/// [`Encoded::read_as`], [`Encoded::checked_add`] and [`Encoded::matches`].
///
/// A first byte under 128 picks the value's tag (a number type, `bool`,
/// `String` or `Vec<u8>`) and the rest are its bytes; from 128 up, the rest
/// is decoded as a whole [`Encoded`], tag and all.
///
/// Integer reads must follow the family rule: a value read as `i128` or
/// `u128` reads as another width exactly when it fits there, and as the
/// same number.
pub fn value_read(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let value = if pick < 128 {
        let tag = TAGS[usize::from(pick) % TAGS.len()];
        let wire = codec::encode(&(TypeTag::from_name(tag), rest)).expect("a tag and bytes encode");
        codec::decode::<Encoded>(&wire).expect("any tag and bytes are an `Encoded`")
    } else {
        match codec::decode::<Encoded>(rest) {
            Ok(value) => value,
            Err(_) => return,
        }
    };
    assert!(value.matches(&value), "a value does not match itself");

    // An integer reads as every width it fits, as the same number.
    let as_i128 = value.decode::<i128>("the value").ok();
    let as_u128 = value.decode::<u128>("the value").ok();
    let is_integer = as_i128.is_some() || as_u128.is_some();
    macro_rules! integers {
        ($($t:ty),*) => {$(
            let read = value.decode::<$t>("the value").ok();
            if is_integer {
                let fitting = as_i128
                    .and_then(|n| <$t>::try_from(n).ok())
                    .or_else(|| as_u128.and_then(|n| <$t>::try_from(n).ok()));
                assert_eq!(read, fitting, "{value:?} read as {}", stringify!($t));
            }
            // Of another width, it matches the same number (of its own
            // width the bytes are compared as they came).
            if let Some(n) = read.filter(|_| value.tag() != &TypeTag::of::<$t>()) {
                let same = Encoded::encode(&n).expect("an integer encodes");
                assert!(value.matches(&same), "{value:?} does not match its own {n}");
            }
        )*};
    }
    integers!(
        i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
    );

    read_and_round_trip::<f32>(&value);
    read_and_round_trip::<f64>(&value);
    read_and_round_trip::<bool>(&value);
    read_and_round_trip::<String>(&value);
    read_and_round_trip::<Vec<u8>>(&value);

    for delta in [0, 1, -1, i64::MAX, i64::MIN] {
        let Ok((sum, reply)) = value.checked_add(delta, "the value") else {
            continue;
        };
        assert_eq!(sum.tag(), value.tag(), "an add changed the value's type");
        let current = value
            .decode::<i128>("the value")
            .expect("a value that adds reads as an i128");
        assert_eq!(
            i128::from(reply),
            current + i128::from(delta),
            "{value:?} + {delta}"
        );
        assert_eq!(
            sum.decode::<i64>("the sum").ok(),
            Some(reply),
            "{value:?} + {delta}: the stored sum is not the one replied"
        );
    }
}

/// Reads `value` as a `T`; one that reads must encode and read again to
/// the same bytes (bytes, not `==`: a NaN is not equal to itself).
fn read_and_round_trip<T: Serialize + DeserializeOwned>(value: &Encoded) {
    let Ok(read) = value.decode::<T>("the value") else {
        return;
    };
    let again = Encoded::encode(&read).expect("a read value encodes");
    let back = again
        .decode::<T>("the value")
        .expect("a re-encoded value reads");
    assert_eq!(
        codec::encode(&back).expect("encodes"),
        again.bytes(),
        "a value changed in a round trip"
    );
}

/// A current-thread runtime with timers, one per check: the checks run
/// one input at a time.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
}

/// A reader that hands its bytes out in reads of varying sizes, so frames
/// arrive split across reads and several in one.
///
/// `cut` 0 hands out as much as each read can take; `cut` n > 0 hands out
/// 1 to 4n bytes a read, the sizes drawn from a small generator seeded
/// with n.
#[derive(Debug)]
struct ChunkedReader<'a> {
    data: &'a [u8],
    state: u32,
    largest: usize,
}

impl<'a> ChunkedReader<'a> {
    fn new(data: &'a [u8], cut: u8) -> Self {
        ChunkedReader {
            data,
            state: u32::from(cut) | 0x9e37_0000,
            largest: if cut == 0 {
                usize::MAX
            } else {
                4 * usize::from(cut)
            },
        }
    }

    /// The size of the next read (xorshift32).
    fn next_len(&mut self) -> usize {
        if self.largest == usize::MAX {
            return usize::MAX;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        1 + self.state as usize % self.largest
    }
}

impl AsyncRead for ChunkedReader<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.next_len().min(out.remaining()).min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        out.put_slice(head);
        self.data = tail;
        Poll::Ready(Ok(()))
    }
}

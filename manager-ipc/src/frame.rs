//! Framing: each message is a 4-byte little-endian length, then that many
//! bytes of the codec's encoding.
//!
//! The length is checked against the maximum frame size before anything is
//! allocated for it, so a peer that announces a 4 GiB frame is refused after
//! four bytes. [`FrameBuffer`] reads whatever the socket has and then hands
//! out every complete frame in it, which is how the server bridge batches the
//! requests that one wakeup brings.
//!
//! # Memory
//!
//! A frame's buffer grows with the bytes that arrive, never with what its
//! header announces: a peer that announces 16 MiB and sends 100 bytes costs
//! about 8 KiB, and one that sends the bytes costs at most twice what it
//! sent. A frame of more than 64 KiB is read into a buffer of its own whose
//! last growth is to exactly the frame's end, so its allocation is its own
//! size (a large value decoded from it may keep it); the shared buffer
//! stays small. How long a begun frame may take to arrive is the reader's
//! choice ([`FrameBuffer::in_frame`] says when one is under way).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use manager_core::codec::Splices;
use manager_core::{CodecError, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 4;

/// The default largest frame, in bytes (16 MiB).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// How many bytes a reply frame may exceed the announced frame limit by.
///
/// The limit bounds what a client sends. A reply that hands one item back
/// (a queue get, a pop) carries the item with a little more framing than
/// the request that put it there (the getter's request id, a receipt), so
/// replies may be this much larger: an item that went in always comes out.
pub const REPLY_HEADROOM: usize = 64;

/// The largest frame accepted during the handshake, in bytes.
pub const HANDSHAKE_MAX_FRAME: usize = 1024;

/// A frame could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The peer announced, or we tried to send, a frame over the limit.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed in the middle of a frame ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes of the unfinished frame.
        buffered: usize,
    },
    /// The peer closed the connection between frames.
    #[error("connection closed")]
    Closed,
    /// A frame was begun but not finished in time.
    #[error("a frame was not completed within {after:?} ({buffered} bytes of it arrived)")]
    Timeout {
        /// How long the frame may take.
        after: std::time::Duration,
        /// Bytes of it that arrived.
        buffered: usize,
    },
    /// The frame's bytes are not the expected message.
    #[error("bad frame: {0}")]
    Codec(CodecError),
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(std::io::Error),
}

impl From<CodecError> for FrameError {
    fn from(e: CodecError) -> Self {
        FrameError::Codec(e)
    }
}

impl From<std::io::Error> for FrameError {
    fn from(e: std::io::Error) -> Self {
        FrameError::Io(e)
    }
}

/// Bytes read from a socket, cut into frames.
#[derive(Debug)]
pub struct FrameBuffer {
    /// Small frames, and the start of every frame until its header is in.
    buf: BytesMut,
    /// A large frame under way, read into a buffer of its own.
    large: Option<LargeFrame>,
    max_frame: usize,
}

/// A frame of more than [`KEEP_CAPACITY`] bytes being read: its payload so
/// far, in a vector grown with the bytes that arrive, to exactly the
/// frame's length at the end.
#[derive(Debug)]
struct LargeFrame {
    payload: Vec<u8>,
    len: usize,
}

/// What a buffer starts with, and grows by at least.
const INITIAL_CAPACITY: usize = 8 * 1024;

/// Spare room below which a read first makes more.
const MIN_SPARE: usize = 4 * 1024;

/// A buffer larger than this, once emptied, is replaced by a small one;
/// a frame larger than this is read into a buffer of its own.
const KEEP_CAPACITY: usize = 64 * 1024;

impl FrameBuffer {
    /// An empty buffer that refuses frames over `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameBuffer {
            buf: BytesMut::with_capacity(INITIAL_CAPACITY),
            large: None,
            max_frame,
        }
    }

    /// Whether the bytes of an unfinished frame are buffered: a frame has
    /// begun and not all of it has arrived.
    pub fn in_frame(&self) -> bool {
        !self.buf.is_empty() || self.large.is_some()
    }

    /// How many bytes are buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
            + self
                .large
                .as_ref()
                .map_or(0, |large| HEADER_LEN + large.payload.len())
    }

    /// The buffer's capacity in bytes (what it holds in memory).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
            + self
                .large
                .as_ref()
                .map_or(0, |large| large.payload.capacity())
    }

    /// Makes room for the next read: for the rest of a begun frame, but never
    /// more than has arrived so far (at least [`INITIAL_CAPACITY`]), so the
    /// buffer grows by doubling with the bytes that come, whatever the
    /// header announced.
    fn make_room(&mut self) {
        let spare = self.buf.capacity() - self.buf.len();
        if spare >= MIN_SPARE {
            return;
        }
        let rest_of_frame = match self.announced() {
            Some(len) => (HEADER_LEN + len).saturating_sub(self.buf.len()),
            None => INITIAL_CAPACITY,
        };
        let grow = rest_of_frame
            .min(self.buf.len().max(INITIAL_CAPACITY))
            .max(MIN_SPARE);
        self.buf.reserve(grow);
    }

    /// The length the buffered header announces, if a whole header is in.
    fn announced(&self) -> Option<usize> {
        let header = self.buf.get(..HEADER_LEN)?;
        Some(u32::from_le_bytes(header.try_into().expect("four bytes")) as usize)
    }

    /// Changes the limit (the handshake uses a small one).
    pub fn set_max_frame(&mut self, max_frame: usize) {
        self.max_frame = max_frame;
    }

    /// Reads once from `reader` into the buffer.
    ///
    /// Returns `Ok(false)` on a clean end of stream (no partial frame left).
    ///
    /// # Errors
    ///
    /// [`FrameError::Truncated`] if the stream ended inside a frame, and
    /// [`FrameError::Io`] if the read failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes are either in the buffer or still in the socket.
    pub async fn fill<R: AsyncRead + Unpin>(&mut self, reader: &mut R) -> Result<bool, FrameError> {
        let read = match &mut self.large {
            // Whole already: `next_frame` hands it out.
            Some(large) if large.payload.len() == large.len => return Ok(true),
            Some(large) => large.fill(reader).await?,
            None => {
                self.make_room();
                reader.read_buf(&mut self.buf).await?
            }
        };
        if read == 0 {
            if !self.in_frame() {
                return Ok(false);
            }
            return Err(FrameError::Truncated {
                buffered: self.buffered(),
            });
        }
        Ok(true)
    }

    /// Takes the next complete frame's payload out of the buffer, if there is
    /// one.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] as soon as a header announces too much.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        if let Some(large) = &self.large {
            if large.payload.len() < large.len {
                return Ok(None);
            }
            let large = self.large.take().expect("checked above");
            // Exactly its length, so the `Bytes` is the vector's own
            // allocation, without a copy or slack.
            return Ok(Some(Bytes::from(large.payload)));
        }
        let Some(len) = self.announced() else {
            return Ok(None);
        };
        if len > self.max_frame {
            return Err(FrameError::TooLarge {
                len,
                max: self.max_frame,
            });
        }
        if self.buf.len() < HEADER_LEN + len {
            if len > KEEP_CAPACITY {
                // Its own buffer from here: the bytes of it already in
                // (all that is buffered, as it is the first frame), then
                // the rest as it arrives.
                let have = &self.buf[HEADER_LEN..];
                let mut payload =
                    Vec::with_capacity(len.min((2 * have.len()).max(INITIAL_CAPACITY)));
                payload.extend_from_slice(have);
                self.large = Some(LargeFrame { payload, len });
                self.buf.clear();
            }
            // Room for the rest is made as its bytes arrive (`fill`).
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        let frame = self.buf.split_to(len).freeze();
        if self.buf.is_empty() && self.buf.capacity() > KEEP_CAPACITY {
            // Do not keep a large frame's room for the connection's life;
            // the frame keeps its own bytes until it is dropped.
            self.buf = BytesMut::with_capacity(INITIAL_CAPACITY);
        }
        Ok(Some(frame))
    }

    /// Reads until one whole frame is in, and decodes it as a `T`.
    ///
    /// # Errors
    ///
    /// [`FrameError::Closed`] on a clean end of stream, otherwise as
    /// [`FrameBuffer::fill`] and [`FrameBuffer::next_frame`], and
    /// [`FrameError::Codec`] if the frame is not a `T`.
    pub async fn read_one<T: DeserializeOwned, R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
    ) -> Result<T, FrameError> {
        loop {
            if let Some(frame) = self.next_frame()? {
                return Ok(codec::decode(&frame)?);
            }
            if !self.fill(reader).await? {
                return Err(FrameError::Closed);
            }
        }
    }
}

impl LargeFrame {
    /// Reads once into the payload, at most up to the frame's end (bytes
    /// after it stay in the socket for the next frame). The payload grows
    /// by doubling with what has arrived, and its last growth is to exactly
    /// the frame's length, so the frame holds no slack (a large value kept
    /// as a slice of it: `codec::decode_shared`). Growing reallocates in
    /// place or by remapping for blocks this large, not by copying.
    async fn fill<R: AsyncRead + Unpin>(&mut self, reader: &mut R) -> std::io::Result<usize> {
        let rest = self.len - self.payload.len();
        if self.payload.capacity() == self.payload.len() {
            let grow = rest.min(self.payload.len().max(INITIAL_CAPACITY));
            self.payload.reserve_exact(grow);
        }
        let mut room = (&mut self.payload).limit(rest);
        reader.read_buf(&mut room).await
    }
}

/// Appends `message` to `out` as one frame.
///
/// # Errors
///
/// [`FrameError::TooLarge`] if it would exceed `max_frame` (then `out` is
/// left as it was), [`FrameError::Codec`] if it cannot be encoded.
pub fn encode_frame<T: Serialize + ?Sized>(
    message: &T,
    out: &mut Vec<u8>,
    max_frame: usize,
) -> Result<(), FrameError> {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    let header = codec::encode_into(message, out)
        .map_err(FrameError::from)
        .and_then(|len| header(len, max_frame));
    match header {
        Ok(header) => {
            out[start..start + HEADER_LEN].copy_from_slice(&header);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// The header of a frame of `len` bytes, or why it cannot be sent.
fn header(len: usize, max_frame: usize) -> Result<[u8; HEADER_LEN], FrameError> {
    match u32::try_from(len) {
        Ok(len32) if len <= max_frame => Ok(len32.to_le_bytes()),
        _ => Err(FrameError::TooLarge {
            len,
            max: max_frame,
        }),
    }
}

/// Frames encoded for one write, with the bytes of large stored values
/// spliced in rather than copied (see [`codec::encode_into_spliced`]): the
/// manager writes a 16 MiB value from the bytes it keeps, not from a copy.
#[derive(Debug, Default)]
pub struct SplicedFrames {
    buf: Vec<u8>,
    splices: Splices,
}

impl SplicedFrames {
    /// No frames, with room for `capacity` bytes besides spliced values.
    pub fn with_capacity(capacity: usize) -> Self {
        SplicedFrames {
            buf: Vec::with_capacity(capacity),
            splices: Splices::new(),
        }
    }

    /// Appends `message` as one frame.
    ///
    /// # Errors
    ///
    /// As [`encode_frame`]; on error the frames are left as they were.
    pub fn encode<T: Serialize + ?Sized>(
        &mut self,
        message: &T,
        max_frame: usize,
    ) -> Result<(), FrameError> {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; HEADER_LEN]);
        let header = codec::encode_into_spliced(message, &mut self.buf, &mut self.splices)
            .map_err(FrameError::from)
            .and_then(|len| header(len, max_frame));
        match header {
            Ok(header) => {
                self.buf[start..start + HEADER_LEN].copy_from_slice(&header);
                Ok(())
            }
            Err(e) => {
                self.buf.truncate(start);
                self.splices.truncate(start);
                Err(e)
            }
        }
    }

    /// The bytes of every frame, spliced values included.
    pub fn len(&self) -> usize {
        self.buf.len() + self.splices.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The frames' bytes in order, in pieces.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        self.splices.pieces(&self.buf)
    }

    /// Forgets every frame.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.splices.clear();
    }

    /// Gives back the buffer's room if it is over `keep` bytes (call it
    /// when empty).
    pub fn shrink(&mut self, keep: usize) {
        if self.buf.capacity() > keep {
            self.buf = Vec::with_capacity(keep);
        }
    }

    /// Writes every frame, calling `written` with the count of bytes
    /// written so far after each write.
    ///
    /// # Errors
    ///
    /// The write's error, or [`std::io::ErrorKind::WriteZero`] if the
    /// writer takes nothing.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a cancelled write leaves part of a frame written.
    pub async fn write_to<W: AsyncWrite + Unpin>(
        &self,
        write: &mut W,
        mut written: impl FnMut(usize),
    ) -> std::io::Result<()> {
        let mut total = 0;
        for mut piece in self.pieces() {
            while !piece.is_empty() {
                let n = write.write(piece).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::WriteZero.into());
                }
                piece = &piece[n..];
                total += n;
                written(total);
            }
        }
        Ok(())
    }
}

/// Writes `message` as one frame and flushes it.
///
/// # Errors
///
/// As [`encode_frame`], and [`FrameError::Io`] if the write fails.
pub async fn write_one<T: Serialize + ?Sized, W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &T,
    max_frame: usize,
) -> Result<(), FrameError> {
    let mut out = Vec::new();
    encode_frame(message, &mut out, max_frame)?;
    writer.write_all(&out).await?;
    writer.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_split_across_reads_and_batched_in_one() {
        let mut bytes = Vec::new();
        for i in 0..3_u32 {
            encode_frame(&i, &mut bytes, 64).unwrap();
        }
        let (mut client, mut server) = tokio::io::duplex(4);
        let writer = tokio::spawn(async move { client.write_all(&bytes).await });
        let mut buf = FrameBuffer::new(64);
        let mut got = Vec::new();
        while got.len() < 3 {
            while let Some(frame) = buf.next_frame().unwrap() {
                got.push(codec::decode::<u32>(&frame).unwrap());
            }
            if got.len() < 3 {
                assert!(buf.fill(&mut server).await.unwrap());
            }
        }
        assert_eq!(got, [0, 1, 2]);
        writer.await.unwrap().unwrap();
    }

    #[test]
    fn oversized_header_is_refused_before_allocating() {
        let mut buf = FrameBuffer::new(16);
        buf.buf.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            buf.next_frame(),
            Err(FrameError::TooLarge { max: 16, .. })
        ));
        assert!(buf.buf.capacity() < 1 << 20);
    }

    #[tokio::test]
    async fn a_frame_buffer_grows_with_the_bytes_that_arrive() {
        let max = 16 << 20;
        let mut buf = FrameBuffer::new(max);
        // A header announcing 16 MiB and 100 bytes of it.
        let mut bytes = u32::try_from(max).unwrap().to_le_bytes().to_vec();
        bytes.extend([7; 100]);
        let mut reader = &bytes[..];
        assert!(buf.fill(&mut reader).await.unwrap());
        assert!(buf.next_frame().unwrap().is_none());
        assert!(buf.in_frame());
        assert!(buf.capacity() <= 2 * INITIAL_CAPACITY, "{}", buf.capacity());

        // Sent in full, the frame costs at most about twice its size, and
        // the buffer shrinks back once it is taken.
        let len = 1 << 20;
        let mut bytes = u32::try_from(len).unwrap().to_le_bytes().to_vec();
        bytes.extend(vec![1; len]);
        let mut buf = FrameBuffer::new(max);
        let mut reader = &bytes[..];
        let mut peak = 0;
        let mut last = 0;
        let frame = loop {
            if let Some(frame) = buf.next_frame().unwrap() {
                break frame;
            }
            assert!(buf.fill(&mut reader).await.unwrap());
            peak = peak.max(buf.capacity());
            last = buf.large.as_ref().map_or(0, |l| l.payload.capacity());
        };
        assert_eq!(frame.len(), len);
        assert_eq!(&frame[..], &bytes[HEADER_LEN..]);
        assert!(peak <= 2 * (len + HEADER_LEN) + INITIAL_CAPACITY, "{peak}");
        // The frame's allocation is its own size, not the next power of two.
        assert_eq!(last, len);
        assert!(!buf.in_frame());
        assert!(buf.capacity() <= KEEP_CAPACITY, "{}", buf.capacity());
    }

    #[tokio::test]
    async fn spliced_frames_write_what_plain_frames_write() {
        use manager_core::Encoded;
        let big = Encoded::encode(&vec![5_u8; 2 * codec::SHARE_MIN]).unwrap();
        let small = Encoded::encode(&7_u32).unwrap();
        let max = 1 << 20;
        let mut plain = Vec::new();
        let mut spliced = SplicedFrames::with_capacity(64);
        // Frames that end with a spliced value, then one over the limit
        // that is cut back off, then one more.
        for message in [(1_u8, &big), (2, &small), (3, &big)] {
            encode_frame(&message, &mut plain, max).unwrap();
            spliced.encode(&message, max).unwrap();
        }
        let too_large = (4_u8, vec![&big; 8]);
        assert!(matches!(
            spliced.encode(&too_large, max),
            Err(FrameError::TooLarge { .. })
        ));
        encode_frame(&(5_u8, &small), &mut plain, max).unwrap();
        spliced.encode(&(5_u8, &small), max).unwrap();
        assert_eq!(spliced.len(), plain.len());
        assert_eq!(
            spliced.buf.len(),
            plain.len() - 2 * big.bytes().len(),
            "the large values were copied"
        );

        // Written through a narrow pipe, in many writes, and read back.
        let (mut client, mut server) = tokio::io::duplex(1000);
        let reader = tokio::spawn(async move {
            let mut back = Vec::new();
            server.read_to_end(&mut back).await.map(|_| back)
        });
        let mut counts = Vec::new();
        spliced
            .write_to(&mut client, |n| counts.push(n))
            .await
            .unwrap();
        drop(client);
        assert_eq!(reader.await.unwrap().unwrap(), plain);
        assert!(counts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(counts.last(), Some(&plain.len()));
    }

    #[tokio::test]
    async fn large_and_small_frames_in_one_stream_come_out_whole_and_in_order() {
        let sizes = [10, 100_000, 5, KEEP_CAPACITY + 1, 0, 1 << 20, 7];
        let payloads: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|b| (b * 7 + i) as u8).collect())
            .collect();
        let mut bytes = Vec::new();
        for payload in &payloads {
            bytes.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
            bytes.extend_from_slice(payload);
        }
        // All at once, and a few KiB at a time.
        for pipe in [bytes.len(), 4096, 3] {
            let (mut client, mut server) = tokio::io::duplex(pipe);
            let sent = bytes.clone();
            let writer = tokio::spawn(async move { client.write_all(&sent).await });
            let mut buf = FrameBuffer::new(2 << 20);
            let mut got = Vec::new();
            loop {
                while let Some(frame) = buf.next_frame().unwrap() {
                    got.push(frame.to_vec());
                }
                if got.len() == payloads.len() {
                    break;
                }
                assert!(buf.fill(&mut server).await.unwrap(), "pipe {pipe}");
            }
            assert!(got == payloads, "pipe {pipe}");
            assert!(!buf.in_frame());
            writer.await.unwrap().unwrap();
        }

        // A stream cut inside a large frame says how much of it came.
        let mut cut = &bytes[..HEADER_LEN + 10 + HEADER_LEN + 50_000];
        let mut buf = FrameBuffer::new(2 << 20);
        let mut frames = 0;
        let error = loop {
            while buf.next_frame().unwrap().is_some() {
                frames += 1;
            }
            match buf.fill(&mut cut).await {
                Ok(more) => assert!(more),
                Err(e) => break e,
            }
        };
        assert_eq!(frames, 1);
        assert!(
            matches!(error, FrameError::Truncated { buffered } if buffered == HEADER_LEN + 50_000),
            "{error:?}"
        );
    }

    #[test]
    fn oversized_message_is_not_encoded() {
        let mut out = vec![1];
        assert!(matches!(
            encode_frame(&vec![0_u8; 100], &mut out, 16),
            Err(FrameError::TooLarge { .. })
        ));
        assert_eq!(out, [1]);
    }

    #[tokio::test]
    async fn truncated_stream_is_reported() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(&[10, 0, 0, 0, 1]).await.unwrap();
        drop(client);
        let mut buf = FrameBuffer::new(64);
        assert!(matches!(
            buf.read_one::<u32, _>(&mut server).await,
            Err(FrameError::Truncated { buffered: 5 })
        ));
    }
}

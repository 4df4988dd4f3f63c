//! The floor: a ping-pong between raw sockets with our frames, with and
//! without our codec.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use manager_core::codec;
use manager_core::reply::ReplyFrame;
use manager_core::request::{RequestFrame, RequestId};
use manager_ipc::frame::{DEFAULT_MAX_FRAME, encode_frame};

use crate::frames::OpFrames;
use crate::measure::{Sample, measure_threads};
use crate::placement::set_affinity;
use crate::{DEPTH, IO_TIMEOUT};

/// Bytes read from a raw socket, cut into length-prefixed frames.
struct FrameReader {
    buf: Vec<u8>,
    len: usize,
}

impl FrameReader {
    fn new() -> Self {
        FrameReader {
            buf: vec![0; 64 * 1024],
            len: 0,
        }
    }

    /// Reads once and hands every whole frame's payload to `each`; returns
    /// how many there were, or `None` at a clean end of stream.
    fn read_frames(
        &mut self,
        stream: &mut UnixStream,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<Option<usize>> {
        let n = stream.read(&mut self.buf[self.len..])?;
        if n == 0 {
            return if self.len == 0 {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        self.len += n;
        let mut at = 0;
        let mut frames = 0;
        while self.len - at >= 4 {
            let body = u32::from_le_bytes(self.buf[at..at + 4].try_into().expect("4 bytes"));
            let end = at + 4 + body as usize;
            if end > self.len {
                break;
            }
            each(&self.buf[at + 4..end]);
            at = end;
            frames += 1;
        }
        self.buf.copy_within(at..self.len, 0);
        self.len -= at;
        Ok(Some(frames))
    }
}

/// A ping-pong between raw sockets.
#[derive(Clone, Copy)]
pub(crate) struct Floor<'a> {
    /// Client threads, each with its own echo thread.
    pub(crate) pairs: usize,
    /// Request frames written with one write before reading the replies.
    pub(crate) depth: usize,
    /// Whether both sides encode and decode every frame with our codec, as
    /// our client and server must.
    pub(crate) codec: bool,
    /// Whether the client writes each request frame with a write of its
    /// own, as our client did before it coalesced writes, instead of all `depth` in one.
    pub(crate) write_each: bool,
    /// Where the echo threads run.
    pub(crate) server_cpus: &'a [usize],
}

impl Floor<'_> {
    /// Runs the ping-pong; a call makes the round trips of `steps` in
    /// order, `depth` requests each.
    pub(crate) fn run(self, row: Duration, steps: &[&OpFrames]) -> anyhow::Result<Sample> {
        assert!(
            self.depth == 1 || steps.len() == 1,
            "pipelined floors have one step"
        );
        let mut clients = Vec::with_capacity(self.pairs);
        let mut servers = Vec::with_capacity(self.pairs);
        for _ in 0..self.pairs {
            let (client, server) = UnixStream::pair()?;
            for s in [&client, &server] {
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
            }
            clients.push(client);
            servers.push(server);
        }
        thread::scope(|s| {
            let echoes: Vec<_> = servers
                .into_iter()
                .map(|server| s.spawn(move || self.echo(server, steps)))
                .collect();
            let workers: Vec<_> = clients
                .into_iter()
                .map(|client| self.client(client, steps))
                .collect();
            // The workers own the client ends: once they are done, the echo
            // threads see the end of their streams and return.
            let sample = measure_threads(row, self.depth as u64, workers);
            for echo in echoes {
                echo.join().expect("an echo thread panicked")?;
            }
            Ok(sample)
        })
    }

    /// The echo side: one reply frame for every whole request frame, all the
    /// replies of one read in one write, as our server does. The `k`-th
    /// request (from 0) gets the reply of step `k / depth`, modulo the steps.
    pub(crate) fn echo(self, mut stream: UnixStream, steps: &[&OpFrames]) -> anyhow::Result<()> {
        set_affinity(0, self.server_cpus)?;
        let mut reader = FrameReader::new();
        let longest = steps.iter().map(|f| f.reply_bytes.len()).max();
        let mut out = Vec::with_capacity(longest.unwrap_or(0) * DEPTH);
        let mut seen = 0;
        loop {
            out.clear();
            let read = reader.read_frames(&mut stream, |payload| {
                let step = steps[(seen / self.depth) % steps.len()];
                seen += 1;
                if self.codec {
                    let request: RequestFrame = codec::decode(payload).expect("a request frame");
                    let reply = ReplyFrame {
                        id: request.id,
                        result: Ok(step.reply.clone()),
                    };
                    encode_frame(&reply, &mut out, DEFAULT_MAX_FRAME).expect("a reply encodes");
                } else {
                    out.extend_from_slice(&step.reply_bytes);
                }
            })?;
            match read {
                None => return Ok(()),
                Some(0) => {}
                Some(_) => stream.write_all(&out)?,
            }
        }
    }

    /// One call of the client side: for each step, `depth` requests in one
    /// write (or one write each), then read until as many replies are in.
    pub(crate) fn client<'a>(
        self,
        mut stream: UnixStream,
        steps: &'a [&'a OpFrames],
    ) -> impl FnMut() + Send + 'a {
        let raws: Vec<Vec<u8>> = steps
            .iter()
            .map(|f| f.request_bytes.repeat(self.depth))
            .collect();
        let longest = raws.iter().map(Vec::len).max();
        let mut out = Vec::with_capacity(longest.unwrap_or(0));
        let mut reader = FrameReader::new();
        let mut next_id = 0;
        move || {
            for (frames, raw) in steps.iter().zip(&raws) {
                if self.codec {
                    out.clear();
                    for _ in 0..self.depth {
                        next_id += 1;
                        let request = RequestFrame {
                            id: RequestId(next_id),
                            request: frames.request.clone(),
                        };
                        let start = out.len();
                        encode_frame(&request, &mut out, DEFAULT_MAX_FRAME)
                            .expect("a request encodes");
                        if self.write_each {
                            stream.write_all(&out[start..]).expect("floor write");
                        }
                    }
                    if !self.write_each {
                        stream.write_all(&out).expect("floor write");
                    }
                } else {
                    stream.write_all(raw).expect("floor write");
                }
                let mut got = 0;
                while got < self.depth {
                    let read = reader.read_frames(&mut stream, |payload| {
                        if self.codec {
                            let reply: ReplyFrame = codec::decode(payload).expect("a reply frame");
                            assert!(reply.result.is_ok());
                        }
                    });
                    match read.expect("floor read") {
                        Some(n) => got += n,
                        None => panic!("the echo thread closed its socket"),
                    }
                }
            }
        }
    }
}

//! An item that went into a queue always comes out: the reply that hands it
//! over carries a little more framing than the put that brought it (the
//! getter's request id, a receipt), and replies may exceed the frame limit
//! by `REPLY_HEADROOM`, so a get never fails with `ReplyTooLarge` on an item
//! whose put fitted, and the items behind it are reached.

use manager::{Address, AuthKey, Manager};
use manager_core::reply::{Reply, ReplyFrame};
use manager_core::request::{ObjectRequest, QueueRequest, Request, RequestFrame, RequestId, Wait};
use manager_core::{Encoded, ManagerError, ObjectId, codec};
use manager_ipc::frame::{FrameBuffer, HANDSHAKE_MAX_FRAME, encode_frame};
use manager_ipc::handshake;
use tests::DEADLINE;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;

const MAX_FRAME: usize = 4096;

/// A connection whose request ids the test chooses.
struct Conn {
    stream: UnixStream,
    buf: FrameBuffer,
    max_frame: usize,
}

impl Conn {
    async fn open(address: &Address, key: &AuthKey) -> anyhow::Result<Self> {
        let Address::Unix(path) = address else {
            anyhow::bail!("unix only")
        };
        let mut stream = UnixStream::connect(path).await?;
        let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        let session = handshake::initiate(&mut stream, &mut buf, key).await?;
        buf.set_max_frame(session.max_frame + manager_ipc::frame::REPLY_HEADROOM);
        Ok(Conn {
            stream,
            buf,
            max_frame: session.max_frame,
        })
    }

    async fn call(
        &mut self,
        id: u64,
        target: ObjectId,
        op: ObjectRequest,
    ) -> anyhow::Result<Result<Reply, ManagerError>> {
        let mut out = Vec::new();
        let frame = RequestFrame {
            id: RequestId(id),
            request: Request::Object { target, op },
        };
        encode_frame(&frame, &mut out, self.max_frame)?;
        self.stream.write_all(&out).await?;
        let reply = tokio::time::timeout(DEADLINE, async {
            loop {
                if let Some(frame) = self.buf.next_frame()? {
                    return anyhow::Ok(codec::decode::<ReplyFrame>(&frame)?);
                }
                anyhow::ensure!(self.buf.fill(&mut self.stream).await?, "closed");
            }
        })
        .await??;
        anyhow::ensure!(reply.id == RequestId(id), "reply to another request");
        Ok(reply.result)
    }
}

fn put(value: Encoded) -> ObjectRequest {
    ObjectRequest::Queue(QueueRequest::Put {
        value,
        wait: Wait::No,
    })
}

#[test]
fn an_item_that_fitted_its_put_is_deliverable_to_a_get() -> anyhow::Result<()> {
    let manager = Manager::builder().max_frame(MAX_FRAME).start()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager::Client::connect(manager.address(), manager.authkey()).await?;
        let queue = client.queue::<String>("jobs", None).await?;
        let id = queue.id();
        // The largest string whose put (request id 1) fits a frame exactly.
        let mut len = 0;
        let big = loop {
            let value = Encoded::encode(&"x".repeat(len + 1))?;
            let frame = RequestFrame {
                id: RequestId(1),
                request: Request::Object {
                    target: id,
                    op: put(value),
                },
            };
            if codec::encode(&frame)?.len() > MAX_FRAME {
                break Encoded::encode(&"x".repeat(len))?;
            }
            len += 1;
        };
        let mut producer = Conn::open(manager.address(), manager.authkey()).await?;
        assert_eq!(producer.call(1, id, put(big)).await?, Ok(Reply::Done));
        assert_eq!(
            producer.call(2, id, put(Encoded::encode(&"next".to_owned())?)).await?,
            Ok(Reply::Done)
        );
        // A consumer whose request ids have grown large (a long-lived
        // client): three gets in a row.
        let mut consumer = Conn::open(manager.address(), manager.authkey()).await?;
        let mut outcomes = Vec::new();
        for n in 0..3u64 {
            let got = consumer
                .call(
                    (1 << 40) + n,
                    id,
                    ObjectRequest::Queue(QueueRequest::Receive {
                        expect: None,
                        wait: Wait::No,
                    }),
                )
                .await?;
            outcomes.push(match got {
                Ok(Reply::Delivery { value, .. }) => {
                    format!("got {} bytes", value.decode::<String>("item")?.len())
                }
                Ok(other) => format!("{other:?}"),
                Err(e) => format!("error: {e}"),
            });
        }
        let left = queue.len().await?;
        assert!(
            outcomes.iter().any(|o| o.starts_with("got")),
            "the consumer never gets past the item ({len} bytes, put fitted a frame): {outcomes:#?}; \
             the queue still holds {left} items"
        );
        anyhow::Ok(())
    })
}

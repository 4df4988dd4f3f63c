//! A custom type is told both `connection_closed(c)` (release what its
//! client held) and `reply_undelivered(reply, c)` (take back what an
//! undelivered reply handed over), for a connection that dies with a
//! hand-off reply still queued. A type that follows the hooks' contract
//! (give back only what the state still records as `c`'s) gives the token
//! back once: two live clients never hold one token, and it is not lost.

use std::collections::BTreeMap;

use manager::{CallInfo, Client, ConnectionId, CustomObject, CustomType, Manager};
use manager_core::request::{NamespaceRequest, ObjectRequest};
use manager_core::{Encoded, ObjectId};
use serde::{Deserialize, Serialize};
use tests::raw::RawConnection;

/// Tokens 0..n; `Take` hands one out, and the type records who holds it.
#[derive(Debug, Default)]
struct Tokens {
    free: Vec<u32>,
    held: BTreeMap<u32, u64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum TokensRequest {
    Take,
}

impl CustomType for Tokens {
    const TYPE_NAME: &'static str = "review.tokens";
    type Init = u32;
    type Request = TokensRequest;
    type Reply = Option<u32>;
}

impl CustomObject for Tokens {
    fn create(n: u32) -> Result<Self, String> {
        Ok(Tokens {
            free: (0..n).rev().collect(),
            held: BTreeMap::new(),
        })
    }

    fn handle(&mut self, _request: TokensRequest, call: &CallInfo<'_>) -> Option<u32> {
        let token = self.free.pop()?;
        self.held.insert(token, call.connection().0);
        Some(token)
    }

    // "A connection that used this object has closed; release what its
    // client held."
    fn connection_closed(&mut self, connection: ConnectionId) {
        let mine: Vec<u32> = self
            .held
            .iter()
            .filter(|(_, c)| **c == connection.0)
            .map(|(t, _)| *t)
            .collect();
        for token in mine {
            self.held.remove(&token);
            self.free.push(token);
        }
    }

    // "A type whose replies hand something over ... takes it back here."
    fn reply_undelivered(&mut self, reply: Option<u32>, connection: ConnectionId) {
        // As the hook's docs ask: only what is still recorded as that
        // connection's.
        if let Some(token) = reply
            && self.held.get(&token) == Some(&connection.0)
        {
            self.held.remove(&token);
            self.free.push(token);
        }
    }
}

#[test]
fn an_undelivered_token_is_not_given_back_twice() -> anyhow::Result<()> {
    let manager = Manager::builder().register::<Tokens>().start()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Client::connect(manager.address(), manager.authkey())
            .await?
            .with_timeout(tests::DEADLINE);
        let tokens = client.custom::<Tokens>("tokens", &1).await?;
        let stall = client.namespace("stall").await?;
        stall.set("big", &"x".repeat(1 << 20)).await?;
        // The doomed connection stalls its writer behind a large reply it
        // never reads, asks for the only token, and dies.
        let mut doomed = RawConnection::open(manager.address(), manager.authkey()).await?;
        doomed
            .send(
                stall.id(),
                ObjectRequest::Namespace(NamespaceRequest::Get {
                    attribute: "big".into(),
                }),
            )
            .await?;
        doomed.wait_for_bytes().await?;
        take_raw(&mut doomed, tokens.id()).await?;
        // Make sure the take was applied before the doomed connection goes:
        // poll the object's counter (the take is its first request).
        let deadline = std::time::Instant::now() + tests::DEADLINE;
        loop {
            let snapshot = client.inspect().await?;
            if snapshot
                .objects
                .iter()
                .any(|o| o.id == tokens.id() && o.messages_handled >= 1)
            {
                break;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the doomed take was not applied in time"
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        drop(doomed);
        // Two live clients take: with one token there must be at most one.
        let a = Client::connect(manager.address(), manager.authkey()).await?;
        let b = Client::connect(manager.address(), manager.authkey()).await?;
        let ta = a.lookup_custom::<Tokens>("tokens").await?;
        let tb = b.lookup_custom::<Tokens>("tokens").await?;
        let mut got = (None, None);
        while std::time::Instant::now() < deadline {
            got = (
                ta.call(TokensRequest::Take).await?,
                tb.call(TokensRequest::Take).await?,
            );
            if got.0.is_some() || got.1.is_some() {
                break;
            }
            // Not given back yet: try again (nothing taken).
            tokio::task::yield_now().await;
        }
        anyhow::ensure!(
            got.0.is_some() || got.1.is_some(),
            "the token was lost"
        );
        assert!(
            !(got.0.is_some() && got.1.is_some()),
            "one token, two live holders: {got:?} (given back by connection_closed and again by reply_undelivered)"
        );
        anyhow::Ok(())
    })
}

async fn take_raw(conn: &mut RawConnection, id: ObjectId) -> anyhow::Result<()> {
    conn.send(
        id,
        ObjectRequest::Custom(Encoded::encode(&TokensRequest::Take)?),
    )
    .await?;
    Ok(())
}

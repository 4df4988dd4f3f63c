//! A Prometheus endpoint (feature `metrics`): `GET /metrics` over plain
//! HTTP/1.1 on a TCP address of its own, in the text exposition format.
//!
//! # What it shows
//!
//! Manager-wide: requests read (`manager_requests_total`), connections
//! open now and accepted (`manager_connections`,
//! `manager_connections_accepted_total`), failed handshakes
//! (`manager_handshakes_failed_total`), requests answered with an error
//! (`manager_errors_total`), resident memory on Linux
//! (`manager_resident_memory_bytes`), objects (`manager_objects`),
//! uptime and build (`manager_uptime_seconds`, `manager_build_info`).
//! Per object, labelled `name` and `kind`: mailbox depth
//! (`manager_object_mailbox_depth`), requests handled
//! (`manager_object_requests_handled_total`), and latency.
//!
//! Latency is a **summary**, `manager_object_latency_seconds` with
//! quantiles 0.5, 0.9 and 0.99 and `_count`, plus a gauge of the longest,
//! `manager_object_latency_max_seconds`: the object computes its
//! percentiles itself, from a histogram of its whole life, which is what a
//! summary is (precomputed quantiles, not to be averaged across objects).
//! Its buckets are not exported, so no histogram type; the sum is not kept,
//! so there is no `_sum`. An object too busy to answer the inspection in
//! time has no latency samples in that scrape (its counters are there).
//!
//! # How a scrape is taken
//!
//! A scrape takes the snapshot an `Inspect` request takes (the same
//! function, `take_snapshot` in `state.rs`), then renders it; nothing is counted or
//! kept for it on the path of a request. Names and counts are shown,
//! never values.
//!
//! # Bounds
//!
//! - **One scrape at a time**: a request while another scrape's snapshot
//!   is being taken or sent gets `503 Service Unavailable` with
//!   `Retry-After: 1`. A snapshot that takes longer than
//!   [`SCRAPE_TIMEOUT`] is answered with 503 too, and the next scrape waits
//!   for the registry to have finished it (still 503 meanwhile), so there
//!   is never more than one inspection under way for metrics.
//! - **One snapshot a second at most** ([`MIN_INTERVAL`]): a scrape that
//!   comes sooner after the last one waits out the rest of the interval
//!   (holding the scrape slot), so scraping in a loop cannot keep an
//!   inspection running all the time.
//! - **Connections**: at most [`MAX_CONNECTIONS`] open at once (more are
//!   closed as they are accepted); one request per connection
//!   (`Connection: close`); the request head must arrive within
//!   [`HEADER_TIMEOUT`] and fit in [`MAX_REQUEST_BYTES`], and a connection
//!   is closed after [`CONNECTION_TIMEOUT`] whatever it is doing, so a
//!   scraper that stops reading holds the scrape slot no longer than that.
//! - **Size**: the body is streamed, rendered a chunk of 256 objects at
//!   a time, the manager's thread serving others between chunks; per-object
//!   samples cover at most [`MAX_OBJECTS`] objects, the first by name (the
//!   same ones every scrape, so series do not come and go), and
//!   `manager_metrics_objects_omitted` says how many were left out. With
//!   short names an object is about 1 KiB of text, so a body is at most
//!   about 10 MiB.
//! - Only `GET /metrics` is served: another path is 404, another method
//!   405.
//!
//! # Security
//!
//! The endpoint is not authenticated: anyone who can reach it sees object
//! names, kinds and counts (not values). Bind it to loopback; binding it
//! elsewhere logs a warning, as the manager's own TCP listener does.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use super::state::{ServerState, Slot, take_snapshot};

mod render;

use render::Exposition;

/// The path served.
pub const PATH: &str = "/metrics";

/// Objects whose samples one scrape renders, at most (the first by name).
pub const MAX_OBJECTS: usize = 10_000;

/// The least time between the starts of two scrapes' snapshots.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest a scrape waits for its snapshot before answering 503.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection has to send its request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection may stay open, request and response together.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections open at once, at most.
pub const MAX_CONNECTIONS: usize = 8;

/// The largest request head read, in bytes (hyper's smallest buffer); a
/// larger one is answered `431` and closed.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// The content type of the text exposition format.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The body of every response.
type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A bound metrics listener.
#[derive(Debug)]
pub struct MetricsListener {
    listener: TcpListener,
    address: SocketAddr,
}

impl MetricsListener {
    /// Binds `addr` (port 0 picks a free port); an address other hosts can
    /// reach is named in a warning. Must be called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// The address cannot be bound (in use, no permission, ...).
    pub fn bind(addr: SocketAddr) -> std::io::Result<MetricsListener> {
        let listener = std::net::TcpListener::bind(addr)?;
        let address = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        if super::reachable_from_other_hosts(address) {
            tracing::warn!(
                %address,
                "other hosts can reach the metrics endpoint at this address: it is not \
                 authenticated and shows object names and counts (use a loopback address)"
            );
        }
        Ok(MetricsListener { listener, address })
    }

    /// The address it is bound to, with the port a `:0` got.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }
}

/// Serves `GET /metrics` on `listener` from `shared`, for ever.
pub(super) async fn serve(listener: MetricsListener, shared: Arc<ServerState>) {
    tracing::info!(address = %listener.address, "metrics at http://{}{PATH}", listener.address);
    let open = Arc::new(AtomicUsize::new(0));
    // The scrape slot, holding when the last snapshot began.
    let scrape = Arc::new(Mutex::new(None::<tokio::time::Instant>));
    loop {
        let (stream, peer) = match listener.listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&open, MAX_CONNECTIONS) else {
            tracing::debug!(%peer, "metrics: {MAX_CONNECTIONS} connections open; closed");
            continue;
        };
        let shared = shared.clone();
        let scrape = scrape.clone();
        actix_rt::spawn(async move {
            let _slot = slot;
            let service =
                service_fn(move |request| respond(request, shared.clone(), scrape.clone()));
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(false)
                .max_buf_size(MAX_REQUEST_BYTES);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            match tokio::time::timeout(CONNECTION_TIMEOUT, connection).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "metrics: connection failed"),
                Err(_) => {
                    tracing::debug!(%peer, "metrics: connection closed after {CONNECTION_TIMEOUT:?}")
                }
            }
        });
    }
}

/// Answers one request.
async fn respond(
    request: Request<Incoming>,
    shared: Arc<ServerState>,
    scrape: Arc<Mutex<Option<tokio::time::Instant>>>,
) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != PATH {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            "not found: the metrics are at /metrics\n",
        ));
    }
    if request.method() != Method::GET {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET is served\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return Ok(response);
    }
    let Ok(mut permit) = scrape.try_lock_owned() else {
        return Ok(busy("another scrape is under way; try again\n"));
    };
    // The snapshot is taken by a task that holds the permit until the
    // registry has answered, even if this scrape gives up waiting; at most
    // one starts per `MIN_INTERVAL`.
    let task = actix_rt::spawn(async move {
        if let Some(last) = *permit {
            tokio::time::sleep_until(last + MIN_INTERVAL).await;
        }
        *permit = Some(tokio::time::Instant::now());
        (take_snapshot(&shared, 0).await, permit)
    });
    let (snapshot, permit) = match tokio::time::timeout(SCRAPE_TIMEOUT, task).await {
        Ok(Ok(taken)) => taken,
        Ok(Err(_)) => return Ok(busy("the manager is stopping\n")),
        Err(_) => {
            tracing::warn!("metrics: no snapshot after {SCRAPE_TIMEOUT:?}; answered 503");
            return Ok(busy("the snapshot took too long; try again\n"));
        }
    };
    let Ok(snapshot) = snapshot else {
        return Ok(busy("the manager is stopping\n"));
    };
    // The permit goes with the body: one snapshot held at a time.
    let chunks = Exposition::new(snapshot, MAX_OBJECTS);
    let stream =
        futures_util::stream::unfold((chunks, permit), |(mut chunks, permit)| async move {
            // Other tasks of this thread run between chunks.
            tokio::task::yield_now().await;
            let chunk = chunks.next()?;
            Some((Ok(Frame::data(Bytes::from(chunk))), (chunks, permit)))
        });
    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_TEXT));
    Ok(response)
}

/// A short plain-text response.
fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `503 Service Unavailable`, to be retried in a second.
fn busy(text: &'static str) -> Response<Body> {
    let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, text);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

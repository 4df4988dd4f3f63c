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
//! Each is a field of [`MetricsLimits`] (set with
//! [`MetricsListener::with_limits`]), whose default is the constant named.
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

/// Objects whose samples one scrape renders, at most (the first by name):
/// the default of [`MetricsLimits::max_objects`].
pub const MAX_OBJECTS: usize = 10_000;

/// The least time between the starts of two scrapes' snapshots: the
/// default of [`MetricsLimits::min_interval`].
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest a scrape waits for its snapshot before answering 503: the
/// default of [`MetricsLimits::scrape_timeout`].
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection has to send its request head: the default of
/// [`MetricsLimits::header_timeout`].
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection may stay open, request and response together:
/// the default of [`MetricsLimits::connection_timeout`].
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections open at once, at most: the default of
/// [`MetricsLimits::max_connections`].
pub const MAX_CONNECTIONS: usize = 8;

/// The largest request head read, in bytes (hyper's smallest buffer); a
/// larger one is answered `431` and closed: the default, and the least, of
/// [`MetricsLimits::max_request_bytes`].
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// The content type of the text exposition format.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The body of every response.
type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The bounds of a metrics endpoint (see the [module docs](self#bounds));
/// the default of each is the constant of that name.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use manager_ipc::server::metrics::MetricsLimits;
///
/// let limits = MetricsLimits {
///     max_objects: 500,
///     min_interval: Duration::from_secs(5),
///     ..MetricsLimits::default()
/// };
/// assert_eq!(limits.max_connections, 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsLimits {
    /// Objects whose samples one scrape renders, at most (the first by
    /// name); the rest are counted in `manager_metrics_objects_omitted`.
    pub max_objects: usize,
    /// The least time between the starts of two scrapes' snapshots.
    pub min_interval: Duration,
    /// The longest a scrape waits for its snapshot before answering 503.
    pub scrape_timeout: Duration,
    /// How long a connection has to send its request head.
    pub header_timeout: Duration,
    /// How long a connection may stay open, request and response together.
    pub connection_timeout: Duration,
    /// Connections open at once, at most (at least 1); more are closed as
    /// they are accepted.
    pub max_connections: usize,
    /// The largest request head read, in bytes; values under
    /// [`MAX_REQUEST_BYTES`], hyper's smallest buffer, count as it.
    pub max_request_bytes: usize,
}

impl Default for MetricsLimits {
    fn default() -> Self {
        MetricsLimits {
            max_objects: MAX_OBJECTS,
            min_interval: MIN_INTERVAL,
            scrape_timeout: SCRAPE_TIMEOUT,
            header_timeout: HEADER_TIMEOUT,
            connection_timeout: CONNECTION_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_request_bytes: MAX_REQUEST_BYTES,
        }
    }
}

impl MetricsLimits {
    /// Each limit as the environment variable that carries it to a
    /// manager process, and its value (durations in milliseconds).
    pub fn to_env(&self) -> Vec<(&'static str, u64)> {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        vec![
            (ENV_METRICS_MAX_OBJECTS, count(self.max_objects)),
            (ENV_METRICS_MIN_INTERVAL_MS, millis(self.min_interval)),
            (ENV_METRICS_SCRAPE_TIMEOUT_MS, millis(self.scrape_timeout)),
            (ENV_METRICS_HEADER_TIMEOUT_MS, millis(self.header_timeout)),
            (
                ENV_METRICS_CONNECTION_TIMEOUT_MS,
                millis(self.connection_timeout),
            ),
            (ENV_METRICS_MAX_CONNECTIONS, count(self.max_connections)),
            (ENV_METRICS_MAX_REQUEST_BYTES, count(self.max_request_bytes)),
        ]
    }

    /// Sets the limit that `name` (one of the `ENV_METRICS_*` names)
    /// carries to `value`; `false` if `name` is no limit's.
    pub fn set_from_env(&mut self, name: &str, value: u64) -> bool {
        let count = usize::try_from(value).unwrap_or(usize::MAX);
        let millis = Duration::from_millis(value);
        match name {
            ENV_METRICS_MAX_OBJECTS => self.max_objects = count,
            ENV_METRICS_MIN_INTERVAL_MS => self.min_interval = millis,
            ENV_METRICS_SCRAPE_TIMEOUT_MS => self.scrape_timeout = millis,
            ENV_METRICS_HEADER_TIMEOUT_MS => self.header_timeout = millis,
            ENV_METRICS_CONNECTION_TIMEOUT_MS => self.connection_timeout = millis,
            ENV_METRICS_MAX_CONNECTIONS => self.max_connections = count,
            ENV_METRICS_MAX_REQUEST_BYTES => self.max_request_bytes = count,
            _ => return false,
        }
        true
    }
}

/// Where a manager process finds [`MetricsLimits::max_objects`].
pub const ENV_METRICS_MAX_OBJECTS: &str = "MANAGER_METRICS_MAX_OBJECTS";
/// Where a manager process finds [`MetricsLimits::min_interval`]: decimal
/// milliseconds.
pub const ENV_METRICS_MIN_INTERVAL_MS: &str = "MANAGER_METRICS_MIN_INTERVAL_MS";
/// Where a manager process finds [`MetricsLimits::scrape_timeout`]:
/// decimal milliseconds.
pub const ENV_METRICS_SCRAPE_TIMEOUT_MS: &str = "MANAGER_METRICS_SCRAPE_TIMEOUT_MS";
/// Where a manager process finds [`MetricsLimits::header_timeout`]:
/// decimal milliseconds.
pub const ENV_METRICS_HEADER_TIMEOUT_MS: &str = "MANAGER_METRICS_HEADER_TIMEOUT_MS";
/// Where a manager process finds [`MetricsLimits::connection_timeout`]:
/// decimal milliseconds.
pub const ENV_METRICS_CONNECTION_TIMEOUT_MS: &str = "MANAGER_METRICS_CONNECTION_TIMEOUT_MS";
/// Where a manager process finds [`MetricsLimits::max_connections`].
pub const ENV_METRICS_MAX_CONNECTIONS: &str = "MANAGER_METRICS_MAX_CONNECTIONS";
/// Where a manager process finds [`MetricsLimits::max_request_bytes`].
pub const ENV_METRICS_MAX_REQUEST_BYTES: &str = "MANAGER_METRICS_MAX_REQUEST_BYTES";

/// A bound metrics listener.
#[derive(Debug)]
pub struct MetricsListener {
    listener: TcpListener,
    address: SocketAddr,
    limits: MetricsLimits,
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
        Ok(MetricsListener {
            listener,
            address,
            limits: MetricsLimits::default(),
        })
    }

    /// The same listener, serving within `limits` instead of the defaults.
    pub fn with_limits(mut self, limits: MetricsLimits) -> MetricsListener {
        self.limits = MetricsLimits {
            max_connections: limits.max_connections.max(1),
            max_request_bytes: limits.max_request_bytes.max(MAX_REQUEST_BYTES),
            ..limits
        };
        self
    }

    /// The limits it serves within.
    pub fn limits(&self) -> &MetricsLimits {
        &self.limits
    }

    /// The address it is bound to, with the port a `:0` got.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }
}

/// Serves `GET /metrics` on `listener` from `shared`, for ever.
pub(super) async fn serve(listener: MetricsListener, shared: Arc<ServerState>) {
    tracing::info!(address = %listener.address, "metrics at http://{}{PATH}", listener.address);
    let limits = listener.limits;
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
        let Some(slot) = Slot::take(&open, limits.max_connections) else {
            let max = limits.max_connections;
            tracing::debug!(%peer, "metrics: {max} connections open; closed");
            continue;
        };
        let shared = shared.clone();
        let scrape = scrape.clone();
        actix_rt::spawn(async move {
            let _slot = slot;
            let service =
                service_fn(move |request| respond(request, shared.clone(), scrape.clone(), limits));
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(false)
                .max_buf_size(limits.max_request_bytes);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let timeout = limits.connection_timeout;
            match tokio::time::timeout(timeout, connection).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "metrics: connection failed"),
                Err(_) => {
                    tracing::debug!(%peer, "metrics: connection closed after {timeout:?}")
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
    limits: MetricsLimits,
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
    // one starts per `min_interval`.
    let task = actix_rt::spawn(async move {
        if let Some(last) = *permit {
            tokio::time::sleep_until(last + limits.min_interval).await;
        }
        *permit = Some(tokio::time::Instant::now());
        (take_snapshot(&shared, 0).await, permit)
    });
    let (snapshot, permit) = match tokio::time::timeout(limits.scrape_timeout, task).await {
        Ok(Ok(taken)) => taken,
        Ok(Err(_)) => return Ok(busy("the manager is stopping\n")),
        Err(_) => {
            let waited = limits.scrape_timeout;
            tracing::warn!("metrics: no snapshot after {waited:?}; answered 503");
            return Ok(busy("the snapshot took too long; try again\n"));
        }
    };
    let Ok(snapshot) = snapshot else {
        return Ok(busy("the manager is stopping\n"));
    };
    // The permit goes with the body: one snapshot held at a time.
    let chunks = Exposition::new(snapshot, limits.max_objects);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_travel_through_the_environment() {
        let limits = MetricsLimits {
            max_objects: 3,
            min_interval: Duration::from_millis(1500),
            scrape_timeout: Duration::from_millis(2),
            header_timeout: Duration::from_millis(3),
            connection_timeout: Duration::from_millis(4),
            max_connections: 5,
            max_request_bytes: 65_536,
        };
        let mut back = MetricsLimits::default();
        for (name, value) in limits.to_env() {
            assert!(back.set_from_env(name, value), "{name}");
        }
        assert_eq!(back, limits);
        assert!(!back.set_from_env("MANAGER_MAX_FRAME", 1));
    }

    #[tokio::test]
    async fn limits_are_raised_to_what_can_serve() {
        let listener = MetricsListener::bind("127.0.0.1:0".parse().unwrap())
            .unwrap()
            .with_limits(MetricsLimits {
                max_connections: 0,
                max_request_bytes: 10,
                ..MetricsLimits::default()
            });
        assert_eq!(listener.limits().max_connections, 1);
        assert_eq!(listener.limits().max_request_bytes, MAX_REQUEST_BYTES);
    }
}

//! [`Manager`]: the embedded manager, an actor system plus its IPC server.
//!
//! [`Manager::start`] starts the actors on a thread of their own, binds the
//! server (a Unix domain socket in a fresh private directory unless told
//! otherwise) and returns a handle with the address and authkey that
//! clients and workers need.
//!
//! # Shutdown
//!
//! [`Manager::shutdown`], or dropping the handle, stops every actor and closes
//! every connection: clients get [`Error::ManagerGone`](crate::Error) on
//! their next call, or on the calls they are waiting on. The socket file and
//! its private directory are removed.
//!
//! # Metrics
//!
//! With the feature `metrics`, `ManagerBuilder::metrics` also serves
//! Prometheus metrics over HTTP at `http://ADDR/metrics`
//! (`Manager::metrics_address` says where): requests, connections,
//! failed handshakes, and each object's mailbox depth, requests handled
//! and latency, taken from the snapshot an inspection takes, with nothing
//! added to the path of a request. The endpoint is not authenticated: bind
//! it to loopback. What it shows and its bounds (one scrape at a time,
//! timeouts, at most 10,000 objects' samples) are in
//! `manager_ipc::server::metrics`.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use manager_actors::objects::SharedMemoryBudget;
use manager_actors::{ActorSystem, CustomKind, CustomObject, CustomTypes, RegistryActor};

use crate::address::Address;
use crate::auth::AuthKey;
use crate::error::StartError;
use crate::launcher::Launcher;
use crate::limits::Limits;
use crate::{Client, blocking};
use manager_ipc::server::{self, Listener, ServerConfig};

pub use crate::limits::{DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, MIN_MAX_FRAME};

/// Configures a [`Manager`] before starting it.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct ManagerBuilder {
    /// Where to listen; `None`: a socket in a fresh private directory.
    bind: Option<Address>,
    authkey: Option<AuthKey>,
    config: ServerConfig,
    custom: CustomTypes,
    /// Where to serve metrics, if anywhere.
    #[cfg(feature = "metrics")]
    metrics: Option<SocketAddr>,
    /// The metrics endpoint's bounds.
    #[cfg(feature = "metrics")]
    metrics_limits: server::metrics::MetricsLimits,
}

impl Default for ManagerBuilder {
    fn default() -> Self {
        ManagerBuilder {
            bind: None,
            authkey: None,
            custom: CustomTypes::new(),
            #[cfg(feature = "metrics")]
            metrics: None,
            #[cfg(feature = "metrics")]
            metrics_limits: server::metrics::MetricsLimits::default(),
            config: ServerConfig {
                manager_id: 0,
                limits: Limits::default(),
                shared_memory: SharedMemoryBudget::default(),
            },
        }
    }
}

impl ManagerBuilder {
    /// Listens on a Unix domain socket at `path` (mode 0600) instead of one
    /// in a fresh private directory. The file is removed at shutdown.
    pub fn unix(mut self, path: impl Into<PathBuf>) -> Self {
        self.bind = Some(Address::Unix(path.into()));
        self
    }

    /// Listens on TCP at `addr`. Use a loopback address unless other hosts
    /// must connect: the authkey is then the only protection, and traffic
    /// is not encrypted (the manager logs a warning saying so). Port 0
    /// picks a free port.
    pub fn tcp(mut self, addr: SocketAddr) -> Self {
        self.bind = Some(Address::Tcp(addr));
        self
    }

    /// Uses this key instead of a random one.
    pub fn authkey(mut self, key: AuthKey) -> Self {
        self.authkey = Some(key);
        self
    }

    /// Sets every limit at once (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits.sane();
        self
    }

    /// The limits set so far.
    pub fn current_limits(&self) -> &Limits {
        &self.config.limits
    }

    /// The largest frame accepted or sent, in bytes (default 16 MiB, at
    /// least [`MIN_MAX_FRAME`]); see [`Limits::max_frame`].
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.config.limits.max_frame = bytes.max(MIN_MAX_FRAME);
        self
    }

    /// How long a connecting client has to authenticate (default 5 s); see
    /// [`Limits::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.limits.handshake_timeout = timeout;
        self
    }

    /// How many replies one connection may have waiting to be written
    /// (default 4096); see [`Limits::max_in_flight`].
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.config.limits.max_in_flight = requests.max(1);
        self
    }

    /// How many requests one connection may have parked at once, over all
    /// objects (default 65,536, at least 1); one more fails at once with
    /// [`ManagerError::LimitReached`](crate::ManagerError::LimitReached).
    /// See [`Limits::max_parked`].
    pub fn max_parked(mut self, requests: usize) -> Self {
        self.config.limits.max_parked = requests.max(1);
        self
    }

    /// How many threads the manager runs its objects and connections on
    /// (default: the CPUs this process may use; at least 1). Each new
    /// connection goes to the thread with the fewest live connections and
    /// each new object to its creator's thread, so clients busy with
    /// different objects use different cores; one
    /// object's requests always run on one thread, in order. See
    /// [`Limits::threads`].
    pub fn threads(mut self, threads: usize) -> Self {
        self.config.limits.threads = threads.clamp(1, manager_ipc::limits::MAX_THREADS);
        self
    }

    /// Also serves Prometheus metrics over plain HTTP at
    /// `http://ADDR/metrics` (feature `metrics`); port 0 picks a free port,
    /// which [`Manager::metrics_address`] tells.
    ///
    /// The endpoint is **not authenticated**: anyone who can reach it sees
    /// object names, kinds and counts (not values). Use a loopback address;
    /// any other is named in a warning at start. See the [module
    /// docs](self#metrics) for what it shows.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = manager::Manager::builder()
    ///     .metrics("127.0.0.1:0".parse()?)
    ///     .start()?;
    /// let at = manager.metrics_address().expect("asked for");
    /// assert!(at.ip().is_loopback() && at.port() != 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, addr: SocketAddr) -> Self {
        self.metrics = Some(addr);
        self
    }

    /// The bounds of the metrics endpoint (feature `metrics`): objects per
    /// scrape, time between snapshots, connections and their timeouts; see
    /// [`MetricsLimits`](server::metrics::MetricsLimits) for each default.
    #[cfg(feature = "metrics")]
    pub fn metrics_limits(mut self, limits: server::metrics::MetricsLimits) -> Self {
        self.metrics_limits = limits;
        self
    }

    /// Lets clients create objects of the application's own type `T`
    /// (Python's `BaseManager.register`); see
    /// [`CustomObject`].
    ///
    /// # Panics
    ///
    /// If `T::TYPE_NAME` is not a valid type name or another type was
    /// registered under it.
    pub fn register<T: CustomObject>(mut self) -> Self {
        self.custom = self.custom.register::<T>();
        self
    }

    /// Lets clients create objects of a custom type whose behaviour is the
    /// state `S`, written against the trait the built-in kinds implement
    /// (a type whose requests may wait); see [`CustomKind`] and
    /// [`crate::kind`].
    ///
    /// # Panics
    ///
    /// As [`ManagerBuilder::register`].
    pub fn register_kind<S: CustomKind>(mut self) -> Self {
        self.custom = self.custom.register_kind::<S>();
        self
    }

    /// Registers every type of `types` (see [`ManagerBuilder::register`]).
    ///
    /// # Panics
    ///
    /// As [`ManagerBuilder::register`].
    pub fn custom_types(mut self, types: &CustomTypes) -> Self {
        self.custom = self.custom.extend(types);
        self
    }

    /// Starts the manager.
    ///
    /// # Errors
    ///
    /// [`StartError::Bind`] if the address cannot be bound (for example it is
    /// in use), [`StartError::AuthKey`] if no random key can be made,
    /// [`StartError::System`] if the actor thread cannot start, and
    /// [`StartError::NotDispatched`] if this process is itself a worker
    /// whose `main` did not call
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// first (it would launch workers without end). With the feature
    /// `metrics`, `StartError::Metrics` if the metrics address cannot be
    /// bound.
    pub fn start(self) -> Result<Manager, StartError> {
        crate::worker_report::refuse_undispatched("Manager::start")
            .map_err(StartError::NotDispatched)?;
        let authkey = match self.authkey {
            Some(key) => key,
            None => AuthKey::random()?,
        };
        let (socket_dir, bind) = match self.bind {
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("manager-")
                    .permissions(std::fs::Permissions::from_mode(0o700))
                    .tempdir()
                    .map_err(StartError::PrivateDir)?;
                let path = dir.path().join("manager.sock");
                (Some(dir), Address::Unix(path))
            }
            Some(address) => (None, address),
        };
        let key = authkey.clone();
        let mut config = self.config;
        config.manager_id = random_id()?;
        let manager_id = config.manager_id;
        config.shared_memory = SharedMemoryBudget::new(
            config.limits.max_shared_memory_block,
            config.limits.max_shared_memory,
            config.limits.max_shared_memory_blocks,
        );
        let registry = RegistryActor::with_custom_types(self.custom)
            .with_max_objects(config.limits.max_objects)
            .with_shared_memory(config.shared_memory.clone());
        let threads = config.limits.threads;
        #[cfg(feature = "metrics")]
        let (metrics, metrics_limits) = (self.metrics, self.metrics_limits);
        let (system, (address, metrics_address)) = ActorSystem::start(
            "manager",
            threads,
            registry,
            move |registry, threads| async move {
                let (listener, address) =
                    Listener::bind(&bind).map_err(|cause| StartError::Bind {
                        address: bind.clone(),
                        cause,
                    })?;
                #[cfg(feature = "metrics")]
                if let Some(at) = metrics {
                    let metrics = server::metrics::MetricsListener::bind(at)
                        .map_err(|cause| StartError::Metrics { address: at, cause })?
                        .with_limits(metrics_limits);
                    let metrics_address = metrics.local_addr();
                    actix_rt::spawn(server::serve_with_metrics(
                        listener, metrics, registry, threads, key, config,
                    ));
                    return Ok((address, Some(metrics_address)));
                }
                actix_rt::spawn(server::serve(listener, registry, threads, key, config));
                Ok::<_, StartError>((address, None::<SocketAddr>))
            },
        )
        .map_err(|e| match e {
            manager_actors::StartError::Setup(inner) => match inner.downcast::<StartError>() {
                Ok(start) => *start,
                Err(other) => StartError::System(manager_actors::StartError::Setup(other)),
            },
            other => StartError::System(other),
        })?;
        tracing::info!(%address, "manager listening");
        // Always `None` without the feature.
        #[cfg(not(feature = "metrics"))]
        let _: Option<SocketAddr> = metrics_address;
        Ok(Manager {
            id: manager_id,
            #[cfg(feature = "metrics")]
            metrics_address,
            system: Some(system),
            address,
            authkey,
            socket_dir,
        })
    }
}

/// A random identity for a new manager.
fn random_id() -> Result<u64, StartError> {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| StartError::AuthKey(crate::auth::AuthKeyError::Random(e.to_string())))?;
    Ok(u64::from_le_bytes(bytes))
}

/// A running embedded manager.
///
/// # Examples
///
/// ```
/// use manager::Manager;
///
/// let manager = Manager::start()?;
/// let client = manager.connect()?;
/// let ns = client.namespace("config")?;
/// ns.set("workers", &4_u32)?;
/// assert_eq!(ns.get::<u32>("workers")?, 4);
/// manager.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Manager {
    id: u64,
    /// Where metrics are served, if they are.
    #[cfg(feature = "metrics")]
    metrics_address: Option<SocketAddr>,
    system: Option<ActorSystem>,
    address: Address,
    authkey: AuthKey,
    socket_dir: Option<tempfile::TempDir>,
}

impl Manager {
    /// Starts a manager on a Unix domain socket in a fresh private
    /// directory, with a random authkey.
    ///
    /// # Errors
    ///
    /// As [`ManagerBuilder::start`].
    pub fn start() -> Result<Manager, StartError> {
        ManagerBuilder::default().start()
    }

    /// Configures a manager before starting it.
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::default()
    }

    /// The manager's identity: a random number chosen when it started,
    /// which its clients learn in the handshake
    /// ([`Client::manager_id`](crate::Client::manager_id)).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Where the manager listens.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The key clients must prove they hold.
    pub fn authkey(&self) -> &AuthKey {
        &self.authkey
    }

    /// Where Prometheus metrics are served (`http://ADDR/metrics`), with
    /// the port a `:0` got; `None` unless [`ManagerBuilder::metrics`] asked
    /// for them.
    #[cfg(feature = "metrics")]
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    /// A launcher for worker processes that connect to this manager.
    pub fn launcher(&self) -> Launcher {
        Launcher::new(self.address.clone(), self.authkey.clone())
    }

    /// Connects a blocking client, for the app's own use of shared objects.
    ///
    /// # Errors
    ///
    /// As [`blocking::Client::connect`]: [`Error::InsideRuntime`](crate::Error::InsideRuntime)
    /// inside an async context of a tokio runtime, where
    /// [`Manager::connect_async`] is the call to await.
    pub fn connect(&self) -> Result<blocking::Client, crate::Error> {
        blocking::Client::connect_as(
            &self.address,
            &self.authkey,
            "Manager::connect",
            "Manager::connect_async",
        )
    }

    /// Connects an async client; call it inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`Client::connect`].
    pub async fn connect_async(&self) -> Result<Client, crate::Error> {
        Client::connect(&self.address, &self.authkey).await
    }

    /// Stops every actor, closes every connection and removes the socket.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(system) = self.system.take() {
            system.shutdown();
            if let (Address::Unix(path), None) = (&self.address, &self.socket_dir) {
                let _ = std::fs::remove_file(path);
            }
            // Dropping the private directory removes it and the socket.
            self.socket_dir.take();
            tracing::info!(address = %self.address, "manager stopped");
        }
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.stop();
    }
}

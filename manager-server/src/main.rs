//! `manager-server`: serves a manager of shared objects on a Unix socket
//! path or a TCP address until SIGINT or SIGTERM. See
//! `manager::manager_process` for the options, readiness and shutdown.

fn main() -> std::process::ExitCode {
    manager_server::server_main()
}

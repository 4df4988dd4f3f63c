//! `manager-server` as a binary of the tests package, for
//! `tests/server_*.rs`: the same `main` as manager-ipc's.

fn main() -> std::process::ExitCode {
    manager_ipc::manager_process::server_main()
}

//! `manager-server` as a binary of the tests package, for
//! `tests/server_*.rs`: the same `main` as manager-ipc's, plus the custom
//! object types of the tests (a stand-alone server of an application's own
//! types is built this way).

use manager::CustomTypes;
use tests::custom::{EnvProbe, Inventory, Lease};

fn main() -> std::process::ExitCode {
    let types = CustomTypes::new()
        .register::<Inventory>()
        .register::<Lease>()
        .register::<EnvProbe>();
    manager_server::server_main_with(&types)
}

//! A shared object of the application's own type: a bank ledger.
//!
//! Python's `BaseManager.register("Ledger", Ledger)` lets a manager serve
//! any class; here the ledger is a Rust type with its own request and
//! reply enums ([`CustomType`]) and its behaviour ([`CustomObject`]),
//! registered with [`ManagerBuilder::register`](manager::ManagerBuilder::register).
//! The manager runs it as an actor of its own, like the built-in objects:
//! requests to it run one at a time, each whole, so a transfer is atomic
//! and an overdraft is refused instead of racing.
//!
//! [`WORKERS`] worker processes each make [`TRANSFERS`] transfers between
//! random accounts through a typed proxy ([`Ledger`], a thin wrapper over
//! [`blocking::Custom`]). Many would overdraw an account; the ledger
//! refuses those with a typed error. At the end the main process prints
//! the balances and checks that the total is what was deposited and that
//! every transfer was either made or refused.
//!
//! Run it with
//!
//! ```text
//! cargo run -p examples --example custom_type
//! ```
//!
//! To run the ledger in a manager process of its own instead of this one,
//! register it with `Entries::register::<LedgerState>()` and start a
//! `ManagerProcess`: the child runs this `main` again and learns the type
//! there.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use manager::launcher::Entries;
use manager::{CallInfo, CustomObject, CustomType, Manager, blocking};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How many worker processes make transfers.
const WORKERS: u32 = 4;
/// How many transfers each worker tries.
const TRANSFERS: u32 = 500;
/// The accounts, each opened with [`OPENING_BALANCE`].
const ACCOUNTS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
/// What each account starts with, in cents.
const OPENING_BALANCE: u64 = 10_000;
/// The ledger's name in the manager.
const LEDGER: &str = "bank";
/// How long any one call may wait for the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the workers together may take.
const JOIN_DEADLINE: Duration = Duration::from_secs(60);

/// The ledger as the manager holds it: balances in cents, by account.
#[derive(Debug, Default)]
struct LedgerState {
    balances: BTreeMap<String, u64>,
    transfers: u64,
}

/// What a client asks of the ledger.
#[derive(Debug, Serialize, Deserialize)]
enum LedgerRequest {
    /// Opens `account` with `deposit` cents.
    Open { account: String, deposit: u64 },
    /// Moves `amount` cents from one account to another, if it can.
    Transfer {
        from: String,
        to: String,
        amount: u64,
    },
    /// Every balance, and how many transfers were made.
    Statement,
}

/// What the ledger answers.
#[derive(Debug, Serialize, Deserialize)]
enum LedgerReply {
    Done,
    Statement {
        balances: BTreeMap<String, u64>,
        transfers: u64,
    },
}

/// Why the ledger refused a request: the type's own typed errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum LedgerError {
    NoSuchAccount(String),
    AccountExists(String),
    InsufficientFunds { account: String, balance: u64 },
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::NoSuchAccount(a) => write!(f, "no account `{a}`"),
            LedgerError::AccountExists(a) => write!(f, "account `{a}` already exists"),
            LedgerError::InsufficientFunds { account, balance } => {
                write!(f, "account `{account}` holds only {balance} cents")
            }
        }
    }
}

impl std::error::Error for LedgerError {}

impl CustomType for LedgerState {
    const TYPE_NAME: &'static str = "example.ledger";
    type Init = ();
    type Request = LedgerRequest;
    type Reply = Result<LedgerReply, LedgerError>;
}

impl CustomObject for LedgerState {
    fn create((): ()) -> Result<Self, String> {
        Ok(LedgerState::default())
    }

    fn handle(&mut self, request: LedgerRequest, _call: &CallInfo<'_>) -> Self::Reply {
        match request {
            LedgerRequest::Open { account, deposit } => {
                if self.balances.contains_key(&account) {
                    return Err(LedgerError::AccountExists(account));
                }
                self.balances.insert(account, deposit);
                Ok(LedgerReply::Done)
            }
            LedgerRequest::Transfer { from, to, amount } => {
                if !self.balances.contains_key(&to) {
                    return Err(LedgerError::NoSuchAccount(to));
                }
                let balance = self
                    .balances
                    .get_mut(&from)
                    .ok_or_else(|| LedgerError::NoSuchAccount(from.clone()))?;
                if *balance < amount {
                    return Err(LedgerError::InsufficientFunds {
                        account: from,
                        balance: *balance,
                    });
                }
                *balance -= amount;
                *self.balances.entry(to).or_default() += amount;
                self.transfers += 1;
                Ok(LedgerReply::Done)
            }
            LedgerRequest::Statement => Ok(LedgerReply::Statement {
                balances: self.balances.clone(),
                transfers: self.transfers,
            }),
        }
    }
}

/// The typed proxy the rest of the program uses: one method per operation.
struct Ledger(blocking::Custom<LedgerState>);

impl Ledger {
    fn open(client: &blocking::Client) -> Result<Ledger> {
        Ok(Ledger(client.custom::<LedgerState>(LEDGER, &())?))
    }

    fn open_account(&self, account: &str, deposit: u64) -> Result<()> {
        let request = LedgerRequest::Open {
            account: account.to_owned(),
            deposit,
        };
        self.0.call(request)??;
        Ok(())
    }

    /// `Ok(Err(_))` is the ledger's refusal, `Err(_)` a failed call.
    fn transfer(&self, from: &str, to: &str, amount: u64) -> Result<Result<(), LedgerError>> {
        let request = LedgerRequest::Transfer {
            from: from.to_owned(),
            to: to.to_owned(),
            amount,
        };
        Ok(self.0.call(request)?.map(|_| ()))
    }

    fn statement(&self) -> Result<(BTreeMap<String, u64>, u64)> {
        match self.0.call(LedgerRequest::Statement)?? {
            LedgerReply::Statement {
                balances,
                transfers,
            } => Ok((balances, transfers)),
            other => bail!("a statement request answered {other:?}"),
        }
    }
}

/// A small deterministic generator, so each run's workers differ by seed
/// only.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A worker's entry: random transfers; returns through the exit code.
fn worker(seed: u64) -> Result<()> {
    let client = blocking::Client::from_env()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT);
    let ledger = Ledger::open(&client)?;
    let mut rng = Xorshift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut refused = 0_i64;
    for _ in 0..TRANSFERS {
        let from = ACCOUNTS[rng.below(ACCOUNTS.len() as u64) as usize];
        let to = ACCOUNTS[rng.below(ACCOUNTS.len() as u64) as usize];
        let amount = 1 + rng.below(OPENING_BALANCE / 2);
        match ledger.transfer(from, to, amount)? {
            Ok(()) => {}
            Err(LedgerError::InsufficientFunds { .. }) => refused += 1,
            Err(other) => bail!("transfer refused: {other}"),
        }
    }
    client.namespace("stats")?.add("refused", refused)?;
    Ok(())
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // In a worker process this runs the entry and exits; here it returns.
    Entries::new()
        .register::<LedgerState>()
        .entry("transfer", worker)
        .run_if_worker();

    let manager = Manager::builder()
        .register::<LedgerState>()
        .start()
        .context("start the manager")?;
    let client = manager.connect()?.with_timeout(CALL_TIMEOUT);
    println!("Custom type example: a shared bank ledger");
    println!("=========================================");
    let ledger = Ledger::open(&client)?;
    for account in ACCOUNTS {
        ledger.open_account(account, OPENING_BALANCE)?;
    }
    match ledger.open_account("alice", 1) {
        Err(e) => println!("opening `alice` twice is refused: {e}"),
        Ok(()) => bail!("the ledger opened `alice` twice"),
    }
    println!(
        "{WORKERS} worker processes each try {TRANSFERS} random transfers between {} accounts",
        ACCOUNTS.len()
    );
    let mut workers = (0..WORKERS)
        .map(|i| manager.launcher().spawn("transfer", &u64::from(i + 1)))
        .collect::<Result<Vec<_>, _>>()
        .context("launch the workers")?;
    let deadline = std::time::Instant::now() + JOIN_DEADLINE;
    for worker in &mut workers {
        worker.join_timeout(deadline.saturating_duration_since(std::time::Instant::now()))?;
    }

    let (balances, transfers) = ledger.statement()?;
    let refused: i64 = client.namespace("stats")?.get("refused")?;
    println!();
    println!("  {:<8} {:>10}", "account", "cents");
    for (account, balance) in &balances {
        println!("  {account:<8} {balance:>10}");
    }
    let total: u64 = balances.values().sum();
    let expected = OPENING_BALANCE * ACCOUNTS.len() as u64;
    println!("  {:<8} {total:>10}", "total");
    println!();
    println!("{transfers} transfers made, {refused} refused as overdrafts");
    ensure!(
        total == expected,
        "the total is {total}, expected {expected}"
    );
    ensure!(
        transfers + u64::try_from(refused)? == u64::from(WORKERS * TRANSFERS),
        "every transfer was either made or refused"
    );
    println!("the total is unchanged: every transfer ran whole");
    manager.shutdown();
    Ok(())
}

//! One placement: a manager, its clients, and the rounds of every row.

use std::time::Duration;

use anyhow::{Context, ensure};
use manager::{Address, Manager, blocking, proxy};

use crate::floor::Floor;
use crate::frames::Frames;
use crate::measure::Results;
use crate::ours::{
    BenchCounter, async_single, async_waves, async_window, blocking_row, counter_row, object_row,
};
use crate::placement::{Placement, set_affinity, threads_named};
use crate::rows::{Obj, Op, Row};
use crate::settings::Settings;
use crate::watchdog::Watchdog;
use crate::{ATTRIBUTE, CLIENTS, COUNTER, COUNTER_CLIENTS, DEPTH, DICT_KEY, SHARED_VALUE, VALUE};

/// Starts a manager and the clients under `placement`, runs the rounds and
/// shuts everything down.
pub(crate) fn run_placement(
    placement: Placement,
    settings: &Settings,
    watchdog: &Watchdog,
) -> anyhow::Result<Results> {
    watchdog.stage("connect", Duration::from_secs(30));
    // The manager's thread and the clients' threads inherit this.
    let client_cpus = placement.client_cpus(&settings.cpus);
    let server_cpus = placement.server_cpus(&settings.cpus);
    set_affinity(0, &client_cpus).context("pin the main thread")?;
    let manager = Manager::builder()
        .register::<BenchCounter>()
        .threads(settings.manager_threads)
        .start()
        .context("start the manager")?;
    if let Address::Unix(path) = manager.address() {
        watchdog.remove_on_abort(path.clone());
    }
    // The system's thread `manager` and its arbiters `manager-1`, ...
    let actor_threads = threads_named(|comm| {
        comm == "manager"
            || comm
                .strip_prefix("manager-")
                .is_some_and(|n| n.parse::<usize>().is_ok())
    })?;
    // With more than one, the registry has a thread of its own besides.
    let expected = match settings.manager_threads {
        1 => 1,
        n => n + 1,
    };
    ensure!(
        actor_threads.len() == expected,
        "expected {expected} manager threads, found {actor_threads:?}"
    );
    for tid in actor_threads {
        set_affinity(tid, &server_cpus).context("pin the manager's threads")?;
    }

    let blocking_ns: Vec<blocking::Namespace> = (0..CLIENTS[CLIENTS.len() - 1])
        .map(|_| manager.connect()?.namespace("bench"))
        .collect::<Result<_, _>>()
        .context("connect the blocking clients")?;
    blocking_ns[0].set(ATTRIBUTE, &VALUE)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("build the tokio runtime")?;
    let async_ns = rt.block_on(async {
        let client = manager.connect_async().await?;
        client.namespace("bench").await
    })?;
    let objects = Objects::connect(&manager).context("connect the objects' client")?;
    // The shared counter's clients: a connection each, as 4 processes.
    let counters: Vec<blocking::Value<i64>> = (0..COUNTER_CLIENTS)
        .map(|_| manager.connect()?.value(COUNTER, &0))
        .collect::<Result<_, _>>()
        .context("connect the shared counter's clients")?;
    let frames = Frames::new(async_ns.id(), &objects);
    let ours = Ours {
        blocking: &blocking_ns,
        rt: &rt,
        ns: &async_ns,
        objects: &objects,
        counters: &counters,
    };

    println!(
        "\n== placement {}: client threads on cpus {client_cpus:?}, \
         manager and echo threads on cpus {server_cpus:?} ==",
        placement.name(),
    );
    println!(
        "frames, 4-byte header included: set request {} B, reply {} B; \
         get request {} B, reply {} B",
        frames.set.request_bytes.len(),
        frames.set.reply_bytes.len(),
        frames.get.request_bytes.len(),
        frames.get.reply_bytes.len(),
    );
    for obj in Obj::ALL {
        println!("  {}: {}", obj.name(), frames.sizes(obj));
    }
    println!(
        "  shared counter add: {} → {} B",
        frames.counter_add.request_bytes.len(),
        frames.counter_add.reply_bytes.len(),
    );

    let mut results = Results::default();
    // One shorter, unrecorded round first: page faults, socket buffers,
    // the actor's first batches.
    for round in 0..=settings.rounds {
        watchdog.stage("round", Duration::from_secs(60) + settings.row * 50);
        let mut warmup = Results::default();
        let (row, out) = if round == 0 {
            (settings.row / 4, &mut warmup)
        } else {
            (settings.row, &mut results)
        };
        run_round(row, &server_cpus, &frames, &ours, out)?;
    }

    watchdog.stage("disconnect", Duration::from_secs(30));
    drop(async_ns);
    drop(rt);
    drop(blocking_ns);
    drop(counters);
    drop(objects);
    manager.shutdown();
    Ok(results)
}

/// Our clients, connected once per placement.
pub(crate) struct Ours<'a> {
    pub(crate) blocking: &'a [blocking::Namespace],
    pub(crate) rt: &'a tokio::runtime::Runtime,
    pub(crate) ns: &'a proxy::Namespace,
    pub(crate) objects: &'a Objects,
    /// The shared counter, once per client.
    pub(crate) counters: &'a [blocking::Value<i64>],
}

/// The other objects' proxies, on one blocking client of their own.
pub(crate) struct Objects {
    pub(crate) dict: blocking::Dict<String, i64>,
    pub(crate) list: blocking::List<i64>,
    pub(crate) queue: blocking::Queue<i64>,
    pub(crate) lock: blocking::Lock,
    pub(crate) value: blocking::Value<i64>,
    pub(crate) custom: blocking::Custom<BenchCounter>,
    /// The shared counter, to reset and read it (untimed).
    pub(crate) counter: blocking::Value<i64>,
}

impl Objects {
    pub(crate) fn connect(manager: &Manager) -> anyhow::Result<Self> {
        let client = manager.connect()?;
        let objects = Objects {
            dict: client.dict("bench-dict")?,
            list: client.list("bench-list")?,
            queue: client.queue("bench-queue", None)?,
            lock: client.lock("bench-lock")?,
            value: client.value("bench-value", &SHARED_VALUE)?,
            custom: client.custom::<BenchCounter>("bench-custom", &())?,
            counter: client.value(COUNTER, &0)?,
        };
        objects.custom.call(SHARED_VALUE)?;
        objects.dict.insert(&DICT_KEY.to_owned(), &VALUE)?;
        Ok(objects)
    }
}

/// One round: every row once, each floor right before the rows compared
/// with it, so that a slow phase of the machine hits both.
pub(crate) fn run_round(
    row: Duration,
    server_cpus: &[usize],
    frames: &Frames,
    ours: &Ours<'_>,
    out: &mut Results,
) -> anyhow::Result<()> {
    for op in [Op::Set, Op::Get] {
        let f = frames.of(op);
        for n in CLIENTS {
            let floor = Floor {
                pairs: n,
                depth: 1,
                codec: false,
                write_each: false,
                server_cpus,
            };
            out.push(Row::Floor(op, n), floor.run(row, &[f])?);
            out.push(
                Row::Blocking(op, n),
                blocking_row(row, op, &ours.blocking[..n]),
            );
            if n == 1 {
                let floor = Floor {
                    codec: true,
                    ..floor
                };
                out.push(Row::FloorCodec(op), floor.run(row, &[f])?);
                out.push(
                    Row::Async(op),
                    ours.rt.block_on(async_single(row, op, ours.ns))?,
                );
            }
        }
    }
    for obj in Obj::ALL {
        let floor = Floor {
            pairs: 1,
            depth: 1,
            codec: false,
            write_each: false,
            server_cpus,
        };
        out.push(Row::ObjFloor(obj), floor.run(row, &frames.steps(obj))?);
        if obj == Obj::ListAppend {
            // Keeps the list from growing over the rounds; not timed.
            ours.objects.list.clear()?;
        }
        out.push(Row::Obj(obj), object_row(row, obj, ours.objects));
    }
    let floor = Floor {
        pairs: COUNTER_CLIENTS,
        depth: 1,
        codec: false,
        write_each: false,
        server_cpus,
    };
    out.push(Row::CounterFloor, floor.run(row, &[&frames.counter_add])?);
    let (sample, total) = counter_row(row, ours)?;
    out.push(Row::Counter, sample);
    out.1.push(total);
    let pipelined = Floor {
        pairs: 1,
        depth: DEPTH,
        codec: false,
        write_each: false,
        server_cpus,
    };
    out.push(Row::FloorPipelined, pipelined.run(row, &[&frames.get])?);
    let with_codec = Floor {
        codec: true,
        ..pipelined
    };
    out.push(
        Row::FloorCodecPipelined,
        with_codec.run(row, &[&frames.get])?,
    );
    let write_each = Floor {
        write_each: true,
        ..with_codec
    };
    out.push(
        Row::FloorCodecWriteEach,
        write_each.run(row, &[&frames.get])?,
    );
    out.push(
        Row::AsyncWaves,
        ours.rt.block_on(async_waves(row, ours.ns))?,
    );
    out.push(
        Row::AsyncWindow,
        ours.rt.block_on(async_window(row, ours.ns))?,
    );
    Ok(())
}

//! A frame of a few bytes whose string claims a gigabyte is a clean error:
//! the manager reserves nothing for the claim, so a manager process with
//! little address space to spare neither aborts nor stops serving others.
//! Before, bincode reserved the claimed length before reading it, and the
//! manager under the limit below died of SIGABRT.

use manager::ManagerProcess;
use manager_core::ObjectName;
use manager_core::request::{RegistryRequest, Request, RequestFrame, RequestId};
use tests::raw::RawConnection;
use tests::{DEADLINE, process_is_dead, worker_program};

/// A registry look-up whose name claims `claim` bytes and holds one.
fn hostile_frame(claim: u32) -> Vec<u8> {
    let marker = "marker-of-the-name";
    let frame = RequestFrame {
        id: RequestId(1),
        request: Request::Registry(RegistryRequest::Lookup {
            name: ObjectName::new(marker).expect("a valid name").into(),
        }),
    };
    let bytes = manager_core::codec::encode(&frame).expect("encodes");
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("the name is in the frame");
    assert_eq!(
        usize::from(bytes[at - 1]),
        marker.len(),
        "a one-byte length"
    );
    let mut body = bytes[..at - 1].to_vec();
    // A varint whose next four bytes are the length.
    body.push(0xFC);
    body.extend_from_slice(&claim.to_le_bytes());
    body.push(b'x');
    let mut out = u32::try_from(body.len())
        .expect("short")
        .to_le_bytes()
        .to_vec();
    out.extend_from_slice(&body);
    out
}

/// A process's reserved address space, in KiB.
fn vm_size_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmSize for {pid}"))
}

#[test]
fn a_gigabyte_claim_in_a_short_frame_is_a_clean_error_under_an_address_space_limit()
-> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .start()?;
    let pid = manager.pid();
    // 256 MiB of address space beyond what the manager has reserved now.
    let limit = vm_size_kib(pid)? * 1024 + (256 << 20);
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--as={limit}"))
        .status()?;
    anyhow::ensure!(status.success(), "prlimit failed: {status}");
    let address = manager.address().clone();
    let key = manager.authkey().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut hostile = RawConnection::open(&address, &key).await?;
        // 2^30 - 64 bytes: under every limit but the memory.
        let frame = hostile_frame((1 << 30) - 64);
        assert!(frame.len() < 32, "{} bytes", frame.len());
        for i in 0..8 {
            // The manager may close the connection after the first bad
            // frame before the later ones are written: only the first
            // write must succeed.
            if let Err(e) = hostile.send_raw(&frame).await {
                if i == 0 {
                    return Err(e);
                }
                break;
            }
        }
        // The manager answers or closes the connection; either way it has
        // decoded the frame by then.
        let answer = hostile.recv().await;
        if let Ok(reply) = answer {
            assert!(reply.result.is_err(), "{reply:?}");
        }
        anyhow::Ok(())
    })?;
    assert!(!process_is_dead(pid), "the manager died");
    // It still serves others.
    let ns = manager
        .connect()?
        .with_timeout(DEADLINE)
        .namespace("after")?;
    ns.set("x", &1_u8)?;
    assert_eq!(ns.get::<u8>("x")?, 1);
    manager.shutdown()?;
    Ok(())
}

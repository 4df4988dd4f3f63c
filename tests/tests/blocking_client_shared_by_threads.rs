//! One blocking client may be shared by many threads: whichever thread is
//! blocked reads replies for all, and every call gets its own reply.

use tests::{connect, start_manager};

#[test]
fn threads_sharing_one_blocking_client_each_get_their_replies() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4_i64)
            .map(|t| {
                let client = client.clone();
                scope.spawn(move || -> anyhow::Result<()> {
                    let ns = client.namespace("shared")?;
                    for i in 0..500_i64 {
                        let attribute = format!("t{t}-{}", i % 10);
                        ns.set(&attribute, &(t * 1000 + i))?;
                        anyhow::ensure!(
                            ns.get::<i64>(&attribute)? == t * 1000 + i,
                            "{attribute} out of step"
                        );
                        ns.add("total", 1)?;
                    }
                    Ok(())
                })
            })
            .collect();
        threads
            .into_iter()
            .try_for_each(|t| t.join().expect("thread panicked"))
    })?;
    assert_eq!(client.namespace("shared")?.get::<i64>("total")?, 2_000);
    Ok(())
}

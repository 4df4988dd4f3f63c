//! put_many_timeout into a full bounded queue whose wait ends partway: the
//! count it answers is exactly the items that entered, the first ones, in
//! order (20 rounds, a consumer taking 3 to 7 meanwhile). Holds.

use manager::Manager;
use std::time::Duration;
use tests::{DEADLINE, wait_until};

#[test]
fn put_many_timeout_partway_reports_exactly_what_entered() -> anyhow::Result<()> {
    for round in 0..20u32 {
        let manager = Manager::start()?;
        let a = manager.connect()?.with_timeout(DEADLINE);
        let b = manager.connect()?.with_timeout(DEADLINE);
        let q = a.queue::<u32>("q", Some(4))?;
        let items: Vec<u32> = (0..20).collect();
        let consumer = {
            let qb = b.queue::<u32>("q", Some(4))?;
            let take = 3 + round % 5;
            std::thread::spawn(move || -> anyhow::Result<Vec<u32>> {
                let mut got = Vec::new();
                while got.len() < take as usize {
                    got.extend(qb.get_many_timeout(2, Duration::from_secs(10))?);
                }
                Ok(got)
            })
        };
        let n = q.put_many_timeout(&items, Duration::from_millis(300))?;
        let got = consumer.join().unwrap()?;
        let mut rest = Vec::new();
        while let Some(x) = q.try_get()? {
            rest.push(x);
        }
        let mut all = got.clone();
        all.extend(&rest);
        assert_eq!(
            all,
            items[..n].to_vec(),
            "round {round}: said {n}, got {got:?} rest {rest:?}"
        );
        let _ = wait_until("nothing parked", || Ok(q.n_waiting()? == 0));
    }
    Ok(())
}

//! The embedded manager's Prometheus endpoint, scraped over a plain TCP
//! connection: the manager-wide counters, each object's requests handled,
//! mailbox depth and latency, a failed handshake, an object name with a
//! quote and a backslash escaped in its label, and only `GET /metrics`
//! served; the 503s of the one-scrape-at-a-time bound.

use manager::{AuthKey, Manager, blocking};
use tests::metrics::{http, scrape};
use tests::{connect, wait_until};

/// A user's name that must not end its label early.
const ODD: &str = r#"say "hi" \ there"#;
/// `ODD` as a label value.
const ODD_LABEL: &str = r#"say \"hi\" \\ there"#;

#[test]
fn scrape_shows_counters_objects_and_escaped_names() -> anyhow::Result<()> {
    let manager = Manager::builder().metrics("127.0.0.1:0".parse()?).start()?;
    let at = manager.metrics_address().expect("metrics were asked for");
    assert!(at.ip().is_loopback() && at.port() != 0, "{at}");

    let client = connect(&manager)?;
    let ns = client.namespace("plain")?;
    for i in 0..5_i64 {
        ns.set(&format!("a{i}"), &i)?;
    }
    let odd = client.queue::<u32>(ODD, None)?;
    odd.put(&1)?;
    odd.put(&2)?;
    // One handshake that fails: a key the manager does not hold.
    let wrong = AuthKey::random()?;
    assert!(blocking::Client::connect(manager.address(), &wrong).is_err());

    // The failure is counted by the manager's task, maybe after the
    // client has seen it: scrape until it shows.
    let mut scraped = None;
    wait_until("the failed handshake is counted", || {
        let response = scrape(at)?;
        let done = response.sample("manager_handshakes_failed_total") == Some(1.0);
        scraped = Some(response);
        Ok(done)
    })?;
    let response = scraped.expect("scraped at least once");
    assert_eq!(response.status, 200, "{}", response.head);
    assert!(
        response
            .head
            .contains("content-type: text/plain; version=0.0.4"),
        "{}",
        response.head
    );

    // Manager-wide: 1 + 5 + 1 + 2 requests so far; the client's
    // connection open, and the failed one counted as accepted.
    assert!(response.expect("manager_requests_total")? >= 9.0);
    assert_eq!(response.expect("manager_connections")?, 1.0);
    assert!(response.expect("manager_connections_accepted_total")? >= 2.0);
    assert_eq!(response.expect("manager_objects")?, 2.0);
    assert_eq!(response.expect("manager_metrics_objects_omitted")?, 0.0);
    assert!(
        response
            .body
            .contains("# TYPE manager_object_latency_seconds summary\n")
    );

    // Per object, labelled by name and kind.
    let plain = r#"{name="plain",kind="namespace"}"#;
    assert_eq!(
        response.expect(&format!("manager_object_requests_handled_total{plain}"))?,
        5.0
    );
    assert_eq!(
        response.expect(&format!("manager_object_mailbox_depth{plain}"))?,
        0.0
    );
    assert_eq!(
        response.expect(&format!("manager_object_latency_seconds_count{plain}"))?,
        5.0
    );
    let p99 = response.expect(
        r#"manager_object_latency_seconds{name="plain",kind="namespace",quantile="0.99"}"#,
    )?;
    let max = response.expect(&format!("manager_object_latency_max_seconds{plain}"))?;
    assert!(p99 > 0.0 && max > 0.0 && p99 < 30.0, "p99 {p99}, max {max}");

    let odd = format!(r#"{{name="{ODD_LABEL}",kind="queue"}}"#);
    assert_eq!(
        response.expect(&format!("manager_object_requests_handled_total{odd}"))?,
        2.0
    );
    assert_eq!(
        response.expect(&format!("manager_object_latency_seconds_count{odd}"))?,
        2.0
    );
    // Nowhere unescaped: the quote would have ended the label.
    assert!(!response.body.contains(ODD), "{}", response.body);
    // Every line is a comment or `series value`.
    for line in response.body.lines() {
        assert!(
            line.starts_with("# ")
                || line
                    .rsplit_once(' ')
                    .is_some_and(|(_, v)| v.parse::<f64>().is_ok()),
            "{line}"
        );
    }
    Ok(())
}

#[test]
fn only_get_metrics_is_served() -> anyhow::Result<()> {
    let manager = Manager::builder().metrics("127.0.0.1:0".parse()?).start()?;
    let at = manager.metrics_address().expect("metrics were asked for");
    assert_eq!(http(at, "GET", "/")?.status, 404);
    assert_eq!(http(at, "GET", "/metrics/more")?.status, 404);
    let post = http(at, "POST", "/metrics")?;
    assert_eq!(post.status, 405);
    assert!(post.head.contains("\r\nallow: get"), "{}", post.head);
    // Still serving after those.
    assert_eq!(scrape(at)?.status, 200);
    Ok(())
}

#[test]
fn no_metrics_unless_asked() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    assert_eq!(manager.metrics_address(), None);
    Ok(())
}

#[test]
fn concurrent_scrapes_are_each_answered_200_or_503() -> anyhow::Result<()> {
    let manager = Manager::builder().metrics("127.0.0.1:0".parse()?).start()?;
    let at = manager.metrics_address().expect("metrics were asked for");
    let client = connect(&manager)?;
    for i in 0..200 {
        client.namespace(&format!("ns{i:03}"))?;
    }
    let start = std::sync::Barrier::new(4);
    let responses = std::thread::scope(|s| {
        let scrapers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    scrape(at)
                })
            })
            .collect();
        scrapers
            .into_iter()
            .map(|t| t.join().expect("scraper panicked"))
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    for response in &responses {
        match response.status {
            200 => assert_eq!(response.expect("manager_objects")?, 200.0),
            503 => assert!(
                response.head.contains("\r\nretry-after: 1"),
                "{}",
                response.head
            ),
            other => panic!("status {other}: {}", response.head),
        }
    }
    // One at a time, not none: at least one got through, and a scrape
    // after them all does.
    assert!(responses.iter().any(|r| r.status == 200));
    assert_eq!(scrape(at)?.status, 200);
    Ok(())
}

#[test]
fn scrapes_in_a_row_take_snapshots_at_least_a_second_apart() -> anyhow::Result<()> {
    let manager = Manager::builder().metrics("127.0.0.1:0".parse()?).start()?;
    let at = manager.metrics_address().expect("metrics were asked for");
    let mut uptimes = Vec::new();
    for _ in 0..3 {
        let response = scrape(at)?;
        anyhow::ensure!(response.status == 200, "{}", response.body);
        uptimes.push(response.expect("manager_uptime_seconds")?);
    }
    // Each snapshot began no sooner than a second after the one before.
    for pair in uptimes.windows(2) {
        assert!(pair[1] - pair[0] >= 0.99, "{uptimes:?}");
    }
    Ok(())
}

/// The 503s, made certain by the bounds: after one scrape, the next waits
/// out an hour-long interval holding the scrape slot, so its own wait ends
/// in 503 at the scrape timeout, and one that comes meanwhile finds the
/// slot taken.
#[test]
fn a_scrape_waiting_for_its_turn_makes_others_503() -> anyhow::Result<()> {
    let limits = manager::metrics::MetricsLimits {
        min_interval: std::time::Duration::from_secs(3600),
        scrape_timeout: std::time::Duration::from_secs(2),
        ..Default::default()
    };
    let manager = Manager::builder()
        .metrics("127.0.0.1:0".parse()?)
        .metrics_limits(limits)
        .start()?;
    let at = manager.metrics_address().expect("asked for");
    // The first takes its snapshot at once.
    assert_eq!(scrape(at)?.status, 200);
    // The second waits for the interval, in vain.
    let second = scrape(at)?;
    assert_eq!(second.status, 503, "{}", second.head);
    assert!(second.body.contains("took too long"), "{}", second.body);
    // Its snapshot task still holds the slot, waiting.
    let third = scrape(at)?;
    assert_eq!(third.status, 503, "{}", third.head);
    assert!(third.head.contains("\r\nretry-after: 1"), "{}", third.head);
    assert!(third.body.contains("another scrape"), "{}", third.body);
    manager.shutdown();
    Ok(())
}

//! A `Dict<String, V>` takes `&str` keys, as a `HashMap` does, and a
//! `Set<String>` or `List<String>` is searched with a `&str`: the borrowed
//! key encodes with the owned key's bytes and tag, so it finds the entry the
//! owned key made, from this process or another.

use tests::{connect, start_manager};

#[test]
fn str_keys_find_string_entries() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ages = client.dict::<String, i64>("ages")?;
    ages.insert("ada", &36)?;
    ages.update([("alan".to_owned(), 41)])?;
    assert!(ages.contains_key("alan")?);
    assert_eq!(ages.get("ada")?, Some(36));
    assert_eq!(
        ages.get(&"ada".to_owned())?,
        Some(36),
        "owned keys still work"
    );
    assert_eq!(ages.add("ada", 1)?, 37);
    assert_eq!(ages.setdefault("grace", &85)?, 85);
    assert_eq!(ages.keys()?, ["ada", "alan", "grace"], "one entry per key");
    assert_eq!(ages.pop("alan")?, 41);
    assert_eq!(ages.pop_or("alan", &0)?, 0);
    assert_eq!(ages.remove("grace")?, Some(85));

    // Through the async proxy too.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager.connect_async().await?;
        let ages = client.dict::<String, i64>("ages").await?;
        assert_eq!(ages.get("ada").await?, Some(37));
        assert!(ages.contains_key("ada").await?);
        anyhow::Ok(())
    })?;

    let blobs = client.dict::<Vec<u8>, u32>("blobs")?;
    blobs.insert(&vec![1, 2], &12)?;
    assert_eq!(blobs.get(&[1_u8, 2][..])?, Some(12));

    let seen = client.set::<String>("seen")?;
    assert!(seen.add("x")?);
    assert!(!seen.add(&"x".to_owned())?, "the same item");
    assert!(seen.contains("x")?);
    assert!(seen.discard("x")?);
    assert!(seen.is_empty()?);

    let names = client.list::<String>("names")?;
    names.extend(&["a".to_owned(), "b".to_owned(), "a".to_owned()])?;
    assert!(names.contains("b")?);
    assert_eq!(names.index("b")?, 1);
    assert_eq!(names.count("a")?, 2);
    names.remove("a")?;
    assert_eq!(names.snapshot()?, ["b", "a"]);
    Ok(())
}

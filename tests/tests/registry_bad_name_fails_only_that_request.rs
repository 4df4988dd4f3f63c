//! A hand-made registry request with a bad object name (over 255 bytes,
//! holding a control character, empty) gets `ManagerError::InvalidName`,
//! and the connection goes on serving: the name is checked by the
//! registry, not while the frame is decoded, where a failure would close
//! the connection.

use manager_core::reply::{RegistryReply, Reply};
use manager_core::request::RegistryRequest;
use manager_core::{ManagerError, ObjectName, ObjectSpec, WireName};
use tests::raw::RawConnection;
use tests::{connect, start_manager};

#[test]
fn each_bad_name_is_invalid_name_and_the_connection_goes_on() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut raw = RawConnection::open(manager.address(), manager.authkey()).await?;
        let bad_names = [
            ("x".repeat(300), "longer than 255 bytes"),
            ("bad\u{7}name".to_owned(), "control character"),
            (String::new(), "empty"),
        ];
        for (bad, reason) in bad_names {
            let requests = [
                RegistryRequest::CreateOrGet {
                    name: WireName::new(bad.clone()),
                    spec: ObjectSpec::Namespace,
                },
                RegistryRequest::Lookup {
                    name: WireName::new(bad.clone()),
                },
                RegistryRequest::Remove {
                    name: WireName::new(bad.clone()),
                },
            ];
            for request in requests {
                let what = format!("{request:?}");
                match raw.call_registry(request).await? {
                    Err(ManagerError::InvalidName { reason: said, .. }) => {
                        assert!(said.contains(reason), "{what}: {said}");
                    }
                    other => panic!("{what}: expected InvalidName, got {other:?}"),
                }
            }
        }

        // The same connection serves a valid request next.
        let name = WireName::from(ObjectName::new("jobs")?);
        let created = raw
            .call_registry(RegistryRequest::CreateOrGet {
                name: name.clone(),
                spec: ObjectSpec::Namespace,
            })
            .await?;
        let Ok(Reply::Registry(RegistryReply::Object(created))) = created else {
            panic!("create of a good name: {created:?}");
        };
        assert!(created.created);
        let found = raw.call_registry(RegistryRequest::Lookup { name }).await?;
        let Ok(Reply::Registry(RegistryReply::Object(found))) = found else {
            panic!("lookup of a good name: {found:?}");
        };
        assert_eq!(found.id, created.id);
        anyhow::Ok(())
    })?;

    // Nothing was made of the bad names.
    let names: Vec<_> = connect(&manager)?
        .objects()?
        .into_iter()
        .map(|object| object.name.to_string())
        .collect();
    assert_eq!(names, ["jobs"]);
    Ok(())
}

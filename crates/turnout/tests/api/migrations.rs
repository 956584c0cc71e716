//! A released migration never changes. `migrations.sha256` lists the
//! SHA-256 of every migration of both backends; this test fails when a
//! listed file changed or disappeared, and when a new file is not listed
//! yet (it prints the line to append, in the commit that adds the file).
//! Each backend records applied migrations its own way, and SQLite's never
//! looks at their text again: without this, an edited migration would
//! silently never reach an existing database.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

const LIST: &str = include_str!("migrations.sha256");

/// `backend/file` to the hex SHA-256 of the file as it is on disk.
fn on_disk() -> BTreeMap<String, String> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = BTreeMap::new();
    for backend in ["sqlite", "postgres"] {
        let folder = crates.join(format!("turnout-{backend}/migrations"));
        for entry in std::fs::read_dir(&folder).expect("the migrations folder") {
            let path = entry.expect("a migration").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a UTF-8 name")
                .to_owned();
            if !name.ends_with(".sql") {
                continue;
            }
            let digest = Sha256::digest(std::fs::read(&path).expect("a readable migration"));
            let hex = digest.iter().map(|byte| format!("{byte:02x}")).collect();
            files.insert(format!("{backend}/{name}"), hex);
        }
    }
    files
}

fn listed() -> BTreeMap<String, String> {
    LIST.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (hash, file) = line.split_once("  ").expect("`<sha256>  <backend>/<file>`");
            (file.to_owned(), hash.to_owned())
        })
        .collect()
}

#[test]
fn released_migrations_never_change() {
    let disk = on_disk();
    let listed = listed();
    for (file, hash) in &listed {
        match disk.get(file) {
            None => panic!("{file} was released and is gone: migrations are never removed"),
            Some(now) => assert_eq!(
                now, hash,
                "{file} was released and has changed: put the change in a new migration instead"
            ),
        }
    }
    let unlisted: Vec<String> = disk
        .iter()
        .filter(|(file, _)| !listed.contains_key(*file))
        .map(|(file, hash)| format!("{hash}  {file}"))
        .collect();
    assert!(
        unlisted.is_empty(),
        "new migrations: append to crates/turnout/tests/api/migrations.sha256\n{}",
        unlisted.join("\n")
    );
    assert!(listed.len() >= 25, "both backends' migrations are listed");
}

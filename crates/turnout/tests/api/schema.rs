//! Both backends carry the same tables and columns: the live schema of the
//! backend under test is compared with the other backend's migrations.

use std::collections::BTreeMap;

use turnout_store::Backend;
use turnout_test_support::TestDatabase;

const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../../../turnout-sqlite/migrations/0001_foundation.sql"),
    include_str!("../../../turnout-sqlite/migrations/0002_consultations.sql"),
    include_str!("../../../turnout-sqlite/migrations/0003_resumes.sql"),
    include_str!("../../../turnout-sqlite/migrations/0004_consultation_events.sql"),
    include_str!("../../../turnout-sqlite/migrations/0005_resume_reviews.sql"),
    include_str!("../../../turnout-sqlite/migrations/0006_outbox.sql"),
    include_str!("../../../turnout-sqlite/migrations/0007_deliveries.sql"),
    include_str!("../../../turnout-sqlite/migrations/0008_articles.sql"),
    include_str!("../../../turnout-sqlite/migrations/0009_lead_contacts.sql"),
    include_str!("../../../turnout-sqlite/migrations/0010_recipient_allowances.sql"),
    include_str!("../../../turnout-sqlite/migrations/0011_tokens.sql"),
    include_str!("../../../turnout-sqlite/migrations/0012_meeting_links.sql"),
    include_str!("../../../turnout-sqlite/migrations/0013_attendance.sql"),
    include_str!("../../../turnout-sqlite/migrations/0014_waitlist.sql"),
    include_str!("../../../turnout-sqlite/migrations/0015_whatsapp.sql"),
    include_str!("../../../turnout-sqlite/migrations/0016_consultation_cancellation.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../../../turnout-postgres/migrations/0001_foundation.sql"),
    include_str!("../../../turnout-postgres/migrations/0004_consultations.sql"),
    include_str!("../../../turnout-postgres/migrations/0005_resumes.sql"),
    include_str!("../../../turnout-postgres/migrations/0006_consultation_events.sql"),
    include_str!("../../../turnout-postgres/migrations/0007_resume_reviews.sql"),
    include_str!("../../../turnout-postgres/migrations/0008_outbox.sql"),
    include_str!("../../../turnout-postgres/migrations/0009_deliveries.sql"),
    include_str!("../../../turnout-postgres/migrations/0010_articles.sql"),
    include_str!("../../../turnout-postgres/migrations/0011_lead_contacts.sql"),
    include_str!("../../../turnout-postgres/migrations/0012_recipient_allowances.sql"),
    include_str!("../../../turnout-postgres/migrations/0013_tokens.sql"),
    include_str!("../../../turnout-postgres/migrations/0014_register_set.sql"),
    include_str!("../../../turnout-postgres/migrations/0015_meeting_links.sql"),
    include_str!("../../../turnout-postgres/migrations/0016_attendance.sql"),
    include_str!("../../../turnout-postgres/migrations/0017_waitlist.sql"),
    include_str!("../../../turnout-postgres/migrations/0018_whatsapp.sql"),
    include_str!("../../../turnout-postgres/migrations/0019_consultation_cancellation.sql"),
];

/// Applies one clause of an `ALTER TABLE` to its table's columns.
fn alter(columns: &mut Vec<String>, clause: &str) {
    let words: Vec<&str> = clause.split_whitespace().collect();
    match words.as_slice() {
        ["RENAME", "COLUMN", from, "TO", to, ..] => {
            let to = to.trim_end_matches([',', ';']).to_owned();
            columns.iter_mut().filter(|c| c == from).for_each(|c| *c = to.clone());
        }
        ["DROP", "COLUMN", name, ..] => columns.retain(|c| c != name.trim_end_matches([',', ';'])),
        ["ADD", "COLUMN", name, ..] => columns.push((*name).to_owned()),
        _ => {}
    }
    columns.sort();
}

/// Tables and columns declared by `CREATE TABLE` statements, as later
/// `ALTER TABLE` statements left them.
fn declared(migrations: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for migration in migrations {
        let mut current: Option<(String, Vec<String>)> = None;
        let mut altering: Option<String> = None;
        for line in migration.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix("DROP TABLE ") {
                tables.remove(name.trim_end_matches(';'));
            } else if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
                let (name, clause) = rest.split_once(' ').unwrap_or((rest, ""));
                if let Some(renamed) = clause.strip_prefix("RENAME TO ") {
                    let columns = tables.remove(name).expect("renamed tables exist");
                    tables.insert(renamed.trim_end_matches(';').to_owned(), columns);
                    continue;
                }
                alter(tables.get_mut(name).expect("altered tables exist"), clause);
                altering = (!line.ends_with(';')).then(|| name.to_owned());
            } else if let Some(name) = altering.clone() {
                alter(tables.get_mut(&name).expect("altered tables exist"), line);
                if line.ends_with(';') {
                    altering = None;
                }
            } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                let name = rest.split_whitespace().next().unwrap().to_owned();
                current = Some((name, Vec::new()));
            } else if line.starts_with(')') {
                if let Some((name, mut columns)) = current.take() {
                    columns.sort();
                    tables.insert(name, columns);
                }
            } else if let Some((_, columns)) = current.as_mut() {
                let first = line.split_whitespace().next().unwrap_or_default();
                let constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "--", ""].contains(&first);
                if !constraint {
                    columns.push(first.to_owned());
                }
            }
        }
    }
    tables
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let db = TestDatabase::new().await;
    let other = match db.backend() {
        Backend::Sqlite => declared(POSTGRES_MIGRATIONS),
        Backend::Postgres => declared(SQLITE_MIGRATIONS),
    };
    let live = db.schema().await;
    assert_eq!(live, other);
    assert_eq!(declared(SQLITE_MIGRATIONS), declared(POSTGRES_MIGRATIONS));
    assert!(live["registrations"].contains(&"manage_token_hash".to_owned()));
}

/// On the PostgreSQL leg, the live schema is compared with a live SQLite
/// one: column storage classes, nullability and defaults, primary keys and
/// unique constraints, explicit indexes (columns, uniqueness, partial or
/// not) and foreign keys. On the SQLite leg alone there is no second live
/// schema; the test above holds it to PostgreSQL's migrations by name.
#[tokio::test]
async fn both_live_schemas_agree_on_types_nullability_defaults_indexes_and_keys() {
    let db = TestDatabase::new().await;
    if db.backend() != Backend::Postgres {
        return;
    }
    let sqlite = TestDatabase::sqlite().await;
    let (postgres, sqlite) = (db.shape().await, sqlite.shape().await);
    for (table, lines) in &postgres {
        let other = &sqlite[table];
        let only_postgres: Vec<_> = lines.iter().filter(|l| !other.contains(l)).collect();
        let only_sqlite: Vec<_> = other.iter().filter(|l| !lines.contains(l)).collect();
        assert!(
            only_postgres.is_empty() && only_sqlite.is_empty(),
            "{table}: only on PostgreSQL {only_postgres:#?}, only on SQLite {only_sqlite:#?}"
        );
    }
    assert!(postgres["slots"].contains(&"unique (webinar_id, starts_at)".to_owned()));
    assert!(
        postgres["registrations"]
            .iter()
            .any(|l| l.starts_with("unique index registrations_one_seat_per_person"))
    );
}

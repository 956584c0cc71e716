//! The store's story, told straight to the trait, on the backend under test.

use jiff::{SignedDuration, Timestamp};
use turnout_domain::{
    Attribution, Consent, Email, Host, NewLead, Person, Phone, RegistrationStatus, SecretToken, SlotStatus, Slug, Text,
    TimeZone, WebinarStatus,
};
use turnout_store::{
    LeadKey, ManageKey, NewRegistration, NewSlot, NewWebinar, RegistrationError, RegistrationLead, RegistrationOutcome,
    SlotChanges, SlotError, WebinarChanges, WebinarError,
};
use turnout_test_support::TestDatabase;
use uuid::Uuid;

pub(crate) fn webinar(slug: &str) -> NewWebinar {
    NewWebinar {
        slug: Slug::parse(slug).unwrap(),
        title: Text::required("How to nail your next technical interview", 200).unwrap(),
        summary: Text::optional("Coding, design and behavioural rounds.", 2000).unwrap(),
        time_zone: TimeZone::parse("America/New_York").unwrap(),
        duration_minutes: 90,
        hosts: vec![Host {
            name: "Dana Whitfield".into(),
            title: "Former Engineering Manager".into(),
        }],
        highlights: vec!["12,000+ interviews coached".into()],
        status: WebinarStatus::Published,
    }
}

pub(crate) fn lead(slug: &str, email: &str) -> NewLead {
    NewLead {
        webinar: Slug::parse(slug).unwrap(),
        person: Person {
            name: Text::required("Asha Verma", 100).unwrap(),
            email: Email::parse(email).unwrap(),
            phone: Phone::parse("+91 98765 43210", None).unwrap(),
            country: None,
        },
        time_zone: TimeZone::parse("Asia/Kolkata").unwrap(),
        consent: Consent {
            policy_version: "2026-11-01".into(),
            policy_sha256: "0".repeat(64),
            sms: false,
            whatsapp: false,
            ip: Some("203.0.113.7".into()),
            user_agent: None,
        },
        attribution: Attribution::default(),
    }
}

async fn new_lead(db: &TestDatabase, slug: &str, email: &str, now: Timestamp) -> LeadKey {
    let key = LeadKey {
        id: Uuid::now_v7(),
        token: SecretToken::generate().hash(),
    };
    db.store.create_lead(&lead(slug, email), &key, now).await.unwrap();
    key
}

fn registration(slot_id: i64, lead: &LeadKey, manage: &SecretToken, now: Timestamp) -> NewRegistration {
    NewRegistration {
        id: Uuid::now_v7(),
        slot_id,
        lead: RegistrationLead::Known(lead.clone()),
        manage_token: manage.hash(),
        now,
    }
}

#[tokio::test]
async fn the_store_keeps_the_funnel_story_straight() {
    let db = TestDatabase::new().await;
    let store = db.store.as_ref();
    let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let slug = Slug::parse("interviews").unwrap();

    // A webinar, and its slug taken once only.
    let created = store.create_webinar(&webinar("interviews"), now).await.unwrap();
    assert_eq!(created.hosts[0].name, "Dana Whitfield");
    assert!(matches!(
        store.create_webinar(&webinar("interviews"), now).await,
        Err(WebinarError::SlugTaken)
    ));

    // Two slots; a second slot at the same instant is refused.
    let first = now + SignedDuration::from_hours(48);
    let second = now + SignedDuration::from_hours(72);
    let ids = store
        .create_slots(
            &slug,
            &[
                NewSlot {
                    starts_at: first,
                    capacity: 1,
                },
                NewSlot {
                    starts_at: second,
                    capacity: 2,
                },
            ],
            now,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_slots(
                &slug,
                &[NewSlot {
                    starts_at: first,
                    capacity: 5
                }],
                now
            )
            .await,
        Err(SlotError::Duplicate)
    ));
    let slots = store.list_slots(created.id, now).await.unwrap();
    assert_eq!(slots.iter().map(|s| s.starts_at).collect::<Vec<_>>(), [first, second]);

    // A lead takes the only seat of the first slot; a second person finds it full.
    let asha = new_lead(&db, "interviews", "asha@example.com", now).await;
    let asha_token = SecretToken::generate();
    let RegistrationOutcome::Created(booked) = store
        .create_registration(&registration(ids[0], &asha, &asha_token, now))
        .await
        .unwrap()
    else {
        panic!("a new registration")
    };
    assert_eq!(booked.status, RegistrationStatus::Confirmed);
    assert_eq!(booked.slot.seats_left(), 0);
    let ravi = new_lead(&db, "interviews", "ravi@example.com", now).await;
    let ravi_token = SecretToken::generate();
    assert!(matches!(
        store
            .create_registration(&registration(ids[0], &ravi, &ravi_token, now))
            .await,
        Err(RegistrationError::SlotFull)
    ));

    // Asha again, even through a new lead: the same registration comes back.
    let asha_again = new_lead(&db, "interviews", "ASHA@example.com", now).await;
    let RegistrationOutcome::Existing(existing) = store
        .create_registration(&registration(ids[1], &asha_again, &SecretToken::generate(), now))
        .await
        .unwrap()
    else {
        panic!("the existing registration")
    };
    assert_eq!(existing.id, booked.id);

    // The manage token opens it; another token does not.
    let key = ManageKey {
        id: booked.id,
        token: asha_token.hash(),
    };
    assert!(store.find_registration(&key).await.unwrap().is_some());
    let wrong = ManageKey {
        id: booked.id,
        token: ravi_token.hash(),
    };
    assert!(store.find_registration(&wrong).await.unwrap().is_none());

    // Rescheduling moves the seat; capacity cannot drop below seats taken.
    let moved = store.reschedule_registration(&key, ids[1], now).await.unwrap();
    assert_eq!(moved.slot.id, ids[1]);
    assert_eq!(moved.sequence, 1);
    assert_eq!(store.find_slot(ids[0]).await.unwrap().unwrap().seats_taken, 0);
    let shrink = SlotChanges {
        capacity: Some(0),
        status: None,
    };
    assert!(store.update_slot(ids[1], &shrink, now).await.is_err());
    let shrink = SlotChanges {
        capacity: Some(1),
        status: None,
    };
    assert_eq!(store.update_slot(ids[1], &shrink, now).await.unwrap().capacity, 1);
    store
        .create_registration(&registration(ids[0], &ravi, &ravi_token, now))
        .await
        .unwrap();
    let close = SlotChanges {
        capacity: None,
        status: Some(SlotStatus::Closed),
    };
    let closed = store.update_slot(ids[0], &close, now).await.unwrap();
    assert_eq!(
        (closed.status, closed.capacity, closed.seats_taken),
        (SlotStatus::Closed, 1, 1)
    );

    // Cancelling frees the seat, once.
    let cancelled = store.cancel_registration(&key, now).await.unwrap();
    assert_eq!(cancelled.status, RegistrationStatus::Cancelled);
    store.cancel_registration(&key, now).await.unwrap();
    assert_eq!(store.find_slot(ids[1]).await.unwrap().unwrap().seats_taken, 0);
    assert!(matches!(
        store.reschedule_registration(&key, ids[0], now).await,
        Err(RegistrationError::NotConfirmed(RegistrationStatus::Cancelled))
    ));

    // The listing counts confirmed registrations and skips full or closed slots.
    let listed = store.list_published_webinars(now).await.unwrap();
    assert_eq!(listed[0].registrations, 1);
    assert_eq!(listed[0].next_slot.as_ref().map(|s| s.id), Some(ids[1]));

    // A partial update changes only what it names.
    let changes = WebinarChanges {
        status: Some(WebinarStatus::Archived),
        ..WebinarChanges::default()
    };
    let archived = store.update_webinar(&slug, &changes, now).await.unwrap();
    assert_eq!(archived.status, WebinarStatus::Archived);
    assert_eq!(archived.title, created.title);
    assert!(store.list_published_webinars(now).await.unwrap().is_empty());
}

fn advisor(name: &str, zone: &str, max_calls: i64) -> turnout_store::NewAdvisor {
    use jiff::civil::{Weekday, time};
    use turnout_domain::consultation::WeeklyRange;
    let every_day = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    turnout_store::NewAdvisor {
        name: Text::required(name, 100).unwrap(),
        email: Email::parse(&format!("{}@example.com", name.to_lowercase().replace(' ', "."))).unwrap(),
        time_zone: TimeZone::parse(zone).unwrap(),
        availability: every_day
            .into_iter()
            .map(|weekday| WeeklyRange {
                weekday,
                starts: time(0, 0, 0, 0),
                ends: time(23, 59, 0, 0),
            })
            .collect(),
        max_calls_per_window: max_calls,
    }
}

#[tokio::test]
async fn a_window_never_takes_more_calls_than_its_advisors_can_make() {
    use turnout_store::{ConsultationError, ConsultationOutcome, NewConsultation};

    let db = TestDatabase::new().await;
    let store = db.store.clone();
    let now = Timestamp::now();
    store.create_webinar(&webinar("interviews"), now).await.unwrap();
    store
        .create_advisor(&advisor("Nadia Rahman", "Asia/Kolkata", 6), now)
        .await
        .unwrap();
    store
        .create_advisor(&advisor("Oliver Grant", "Asia/Kolkata", 4), now)
        .await
        .unwrap();
    let mut leads = Vec::new();
    for i in 0..100 {
        leads.push(new_lead(&db, "interviews", &format!("visitor{i}@example.com"), now).await);
    }
    let kolkata = TimeZone::parse("Asia/Kolkata").unwrap();
    let tomorrow = now.to_zoned(kolkata.zone().clone()).date().tomorrow().unwrap();
    let requests = leads.iter().map(|lead| {
        let store = store.clone();
        let request = NewConsultation {
            id: Uuid::now_v7(),
            lead: lead.clone(),
            window_key: "evenings".into(),
            date: tomorrow,
            now,
        };
        tokio::spawn(async move { store.create_consultation(&request).await })
    });
    let mut assigned = std::collections::HashMap::<i64, usize>::new();
    let mut full = 0;
    for outcome in futures::future::join_all(requests).await {
        match outcome.unwrap() {
            Ok(ConsultationOutcome::Created(consultation)) => {
                assert_eq!(consultation.window_label, "Evenings, 6–9 PM");
                *assigned.entry(consultation.advisor_id).or_default() += 1;
            }
            Err(ConsultationError::WindowFull) => full += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(full, 90);
    let mut per_advisor: Vec<usize> = assigned.into_values().collect();
    per_advisor.sort();
    assert_eq!(per_advisor, [4, 6], "each advisor filled exactly to capacity");

    // The same lead asking again gets its consultation back.
    let again = NewConsultation {
        id: Uuid::now_v7(),
        lead: leads[0].clone(),
        window_key: "mornings".into(),
        date: tomorrow.tomorrow().unwrap(),
        now,
    };
    let outcomes = [
        store.create_consultation(&again).await.unwrap(),
        store.create_consultation(&again).await.unwrap(),
    ];
    let ids: Vec<Uuid> = outcomes
        .iter()
        .map(|outcome| match outcome {
            ConsultationOutcome::Created(c) | ConsultationOutcome::Existing(c) => c.id,
        })
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert!(matches!(outcomes[1], ConsultationOutcome::Existing(_)));
}

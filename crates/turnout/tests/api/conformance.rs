//! One table of registration scenarios, run straight against the store of
//! the backend under test (the README's test command runs it on SQLite, the
//! PostgreSQL leg on PostgreSQL). SQLite decides a registration in Rust,
//! PostgreSQL set-wise in `turnout_register_set`; both are held here to the
//! same answers, seats, leads and outbox events, and PostgreSQL's event
//! payloads to the ones `turnout_store::events` builds.

use std::collections::BTreeMap;

use futures::future::join_all;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use turnout_domain::{RegistrationStatus, SecretToken, SlotStatus, Slug, WebinarStatus};
use turnout_store::events::{EventType, OutboxEvent};
use turnout_store::{
    LeadKey, ManageKey, NewRegistration, NewSlot, Registration, RegistrationError, RegistrationLead,
    RegistrationOutcome, SlotChanges, Store, WebinarChanges,
};
use turnout_test_support::TestDatabase;
use uuid::Uuid;

use crate::storage::{lead, webinar};

/// What the store answered, as the scenarios name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Answer {
    Created,
    Existing,
    Full,
    Closed,
    SlotNotFound,
    LeadNotFound,
    WebinarNotFound,
    OtherWebinar,
    Moved,
    Cancelled,
    NotConfirmed,
}

/// One thing a visitor or an organiser does. People are named by the local
/// part of their email; slots by letter:
/// - webinar `interviews`: `a` (2 seats), `b` (1 seat), `c` (5 seats);
/// - webinar `careers`: `o` (5 seats);
/// - webinar `drafts`, never published: `d` (5 seats);
/// - `x` is no slot at all.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Registers for the slot with their details inline: a new lead for the webinar.
    Fresh(&'static str, &'static str, &'static str),
    /// Records a lead for the webinar (step 1 of the funnel).
    Lead(&'static str, &'static str),
    /// Registers for the slot with the lead recorded by `Lead`.
    WithLead(&'static str, &'static str),
    /// The same, with a token that is not the lead's.
    WrongToken(&'static str, &'static str),
    /// Cancels their latest registration.
    Cancel(&'static str),
    /// Moves their latest registration to the slot.
    Reschedule(&'static str, &'static str),
    /// An organiser closes the slot.
    Close(&'static str),
    /// An organiser unpublishes the webinar.
    Unpublish(&'static str),
    /// The clock moves past the start of every slot.
    Later,
}

use Answer::*;
use Step::*;

/// Steps done one after the other, or all at once (answers then compared
/// in any order).
enum Act {
    One(Step, Option<Answer>),
    Together(&'static [Step], &'static [Answer]),
}

use Act::{One, Together};

struct Scenario {
    name: &'static str,
    acts: &'static [Act],
    /// Seats taken afterwards, per slot named.
    seats: Seats,
    /// Leads recorded afterwards.
    leads: i64,
    /// Outbox events afterwards, per type (types not named: none).
    events: &'static [(&'static str, i64)],
}

const CONFIRMED: &str = EventType::RegistrationConfirmed.as_str();
const CANCELLED: &str = EventType::RegistrationCancelled.as_str();
const RESCHEDULED: &str = EventType::RegistrationRescheduled.as_str();
const LEAD: &str = EventType::LeadCreated.as_str();
const MANAGE_LINK: &str = EventType::RegistrationManageLinkRequested.as_str();

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "a fresh person takes a seat and their lead is kept",
        acts: &[One(Fresh("asha", "interviews", "a"), Some(Created))],
        seats: &[("a", 1)],
        leads: 1,
        events: &[(LEAD, 1), (CONFIRMED, 1)],
    },
    Scenario {
        name: "a returning person is handed their seat and emailed its link",
        acts: &[
            One(Fresh("asha", "interviews", "a"), Some(Created)),
            One(Fresh("asha", "interviews", "c"), Some(Existing)),
        ],
        seats: &[("a", 1), ("c", 0)],
        leads: 2,
        events: &[(LEAD, 2), (CONFIRMED, 1), (MANAGE_LINK, 1)],
    },
    Scenario {
        name: "the same person racing themselves gets one seat",
        acts: &[Together(
            &[
                Fresh("asha", "interviews", "a"),
                Fresh("asha", "interviews", "a"),
                Fresh("asha", "interviews", "c"),
            ],
            &[Created, Existing, Existing],
        )],
        seats: &[("a", 1), ("c", 0)],
        leads: 3,
        events: &[(LEAD, 3), (CONFIRMED, 1), (MANAGE_LINK, 2)],
    },
    Scenario {
        name: "a full slot refuses and keeps the lead",
        acts: &[
            One(Fresh("asha", "interviews", "b"), Some(Created)),
            One(Fresh("ravi", "interviews", "b"), Some(Full)),
        ],
        seats: &[("b", 1)],
        leads: 2,
        events: &[(LEAD, 2), (CONFIRMED, 1)],
    },
    Scenario {
        name: "the last seats go to as many as there are, never more",
        acts: &[Together(
            &[
                Fresh("asha", "interviews", "a"),
                Fresh("ravi", "interviews", "a"),
                Fresh("mei", "interviews", "a"),
                Fresh("tom", "interviews", "a"),
                Fresh("ana", "interviews", "b"),
                Fresh("li", "interviews", "b"),
            ],
            &[Created, Created, Created, Full, Full, Full],
        )],
        seats: &[("a", 2), ("b", 1)],
        leads: 6,
        events: &[(LEAD, 6), (CONFIRMED, 3)],
    },
    Scenario {
        name: "a closed slot refuses and keeps the lead",
        acts: &[
            One(Close("a"), None),
            One(Fresh("asha", "interviews", "a"), Some(Closed)),
        ],
        seats: &[("a", 0)],
        leads: 1,
        events: &[(LEAD, 1)],
    },
    Scenario {
        name: "a full slot that is closed is closed",
        acts: &[
            One(Fresh("asha", "interviews", "b"), Some(Created)),
            One(Close("b"), None),
            One(Fresh("ravi", "interviews", "b"), Some(Closed)),
        ],
        seats: &[("b", 1)],
        leads: 2,
        events: &[(LEAD, 2), (CONFIRMED, 1)],
    },
    Scenario {
        name: "a slot that has started refuses",
        acts: &[One(Later, None), One(Fresh("asha", "interviews", "a"), Some(Closed))],
        seats: &[("a", 0)],
        leads: 1,
        events: &[(LEAD, 1)],
    },
    Scenario {
        name: "an unpublished webinar is not found and nothing is recorded",
        acts: &[One(Fresh("asha", "drafts", "d"), Some(WebinarNotFound))],
        seats: &[("d", 0)],
        leads: 0,
        events: &[],
    },
    Scenario {
        name: "a slot of another webinar is refused and nothing is recorded",
        acts: &[
            One(Fresh("asha", "interviews", "o"), Some(OtherWebinar)),
            One(Fresh("ravi", "drafts", "a"), Some(WebinarNotFound)),
        ],
        seats: &[("a", 0), ("o", 0)],
        leads: 0,
        events: &[],
    },
    Scenario {
        name: "a slot that does not exist is not found and nothing is recorded",
        acts: &[One(Fresh("asha", "interviews", "x"), Some(SlotNotFound))],
        seats: &[],
        leads: 0,
        events: &[],
    },
    Scenario {
        name: "a recorded lead takes a seat once per webinar",
        acts: &[
            One(Lead("asha", "interviews"), None),
            One(WithLead("asha", "a"), Some(Created)),
            One(WithLead("asha", "c"), Some(Existing)),
        ],
        seats: &[("a", 1), ("c", 0)],
        leads: 1,
        events: &[(LEAD, 1), (CONFIRMED, 1), (MANAGE_LINK, 1)],
    },
    Scenario {
        name: "a lead of another webinar, a wrong token and a missing slot are refused",
        acts: &[
            One(Lead("asha", "interviews"), None),
            One(WithLead("asha", "o"), Some(OtherWebinar)),
            One(WrongToken("asha", "a"), Some(LeadNotFound)),
            One(WithLead("asha", "x"), Some(SlotNotFound)),
        ],
        seats: &[("a", 0), ("o", 0)],
        leads: 1,
        events: &[(LEAD, 1)],
    },
    Scenario {
        name: "a webinar unpublished after the lead closes its slots",
        acts: &[
            One(Lead("asha", "interviews"), None),
            One(Unpublish("interviews"), None),
            One(WithLead("asha", "a"), Some(Closed)),
        ],
        seats: &[("a", 0)],
        leads: 1,
        events: &[(LEAD, 1)],
    },
    Scenario {
        name: "reschedule to a full slot refuses and keeps the seat",
        acts: &[
            One(Fresh("asha", "interviews", "a"), Some(Created)),
            One(Fresh("ravi", "interviews", "b"), Some(Created)),
            One(Reschedule("asha", "b"), Some(Full)),
        ],
        seats: &[("a", 1), ("b", 1)],
        leads: 2,
        events: &[(LEAD, 2), (CONFIRMED, 2)],
    },
    Scenario {
        name: "reschedule moves the seat, never holding two",
        acts: &[
            One(Fresh("asha", "interviews", "a"), Some(Created)),
            One(Reschedule("asha", "c"), Some(Moved)),
            One(Reschedule("asha", "o"), Some(OtherWebinar)),
        ],
        seats: &[("a", 0), ("c", 1), ("o", 0)],
        leads: 1,
        events: &[(LEAD, 1), (CONFIRMED, 1), (RESCHEDULED, 1)],
    },
    Scenario {
        name: "cancel twice frees one seat",
        acts: &[
            One(Fresh("asha", "interviews", "a"), Some(Created)),
            One(Cancel("asha"), Some(Cancelled)),
            One(Cancel("asha"), Some(Cancelled)),
            One(Reschedule("asha", "c"), Some(NotConfirmed)),
        ],
        seats: &[("a", 0), ("c", 0)],
        leads: 1,
        events: &[(LEAD, 1), (CONFIRMED, 1), (CANCELLED, 1)],
    },
    Scenario {
        name: "a freed seat goes to the next person, and the canceller may come back",
        acts: &[
            One(Fresh("asha", "interviews", "b"), Some(Created)),
            One(Cancel("asha"), Some(Cancelled)),
            One(Fresh("ravi", "interviews", "b"), Some(Created)),
            One(Fresh("asha", "interviews", "a"), Some(Created)),
        ],
        seats: &[("a", 1), ("b", 1)],
        leads: 3,
        events: &[(LEAD, 3), (CONFIRMED, 3), (CANCELLED, 1)],
    },
    Scenario {
        name: "one batch holds every answer at once",
        acts: &[
            One(Lead("tom", "interviews"), None),
            One(Fresh("zoe", "interviews", "c"), Some(Created)),
            Together(
                &[
                    Fresh("asha", "interviews", "b"),
                    Fresh("ravi", "interviews", "b"),
                    Fresh("mei", "drafts", "d"),
                    Fresh("ana", "interviews", "x"),
                    Fresh("li", "interviews", "o"),
                    Fresh("zoe", "interviews", "a"),
                    Fresh("kai", "interviews", "c"),
                    Fresh("kai", "interviews", "c"),
                    WithLead("tom", "a"),
                    WrongToken("tom", "a"),
                ],
                &[
                    Created,
                    Full,
                    WebinarNotFound,
                    SlotNotFound,
                    OtherWebinar,
                    Existing,
                    Created,
                    Existing,
                    Created,
                    LeadNotFound,
                ],
            ),
        ],
        seats: &[("a", 1), ("b", 1), ("c", 2), ("d", 0), ("o", 0)],
        leads: 7,
        events: &[(LEAD, 7), (CONFIRMED, 4), (MANAGE_LINK, 2)],
    },
];

/// Slots by name, with their capacity.
type Seats = &'static [(&'static str, i64)];

/// A fresh database with the webinars and slots the scenarios name.
struct World {
    db: TestDatabase,
    now: Timestamp,
    slots: BTreeMap<&'static str, i64>,
    leads: BTreeMap<&'static str, (LeadKey, SecretToken)>,
    /// Each person's latest registration and its manage token.
    seats: BTreeMap<&'static str, ManageKey>,
}

impl World {
    async fn new() -> Self {
        let db = TestDatabase::new().await;
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let mut slots = BTreeMap::new();
        let layout: [(&str, WebinarStatus, Seats); 3] = [
            ("interviews", WebinarStatus::Published, &[("a", 2), ("b", 1), ("c", 5)]),
            ("careers", WebinarStatus::Published, &[("o", 5)]),
            ("drafts", WebinarStatus::Draft, &[("d", 5)]),
        ];
        for (slug, status, names) in layout {
            let mut new = webinar(slug);
            new.status = status;
            db.store.create_webinar(&new, now).await.unwrap();
            // Starts with a fraction of a second, as a real clock's do.
            let starts =
                |n: usize| now + SignedDuration::from_hours(24 * (n as i64 + 1)) + SignedDuration::from_micros(1500);
            let new_slots: Vec<NewSlot> = names
                .iter()
                .enumerate()
                .map(|(n, (_, capacity))| NewSlot {
                    starts_at: starts(n),
                    capacity: *capacity,
                })
                .collect();
            let ids = db
                .store
                .create_slots(&Slug::parse(slug).unwrap(), &new_slots, now)
                .await
                .unwrap();
            for ((name, _), id) in names.iter().zip(ids) {
                slots.insert(*name, id);
            }
        }
        slots.insert("x", 999_999);
        Self {
            db,
            now,
            slots,
            leads: BTreeMap::new(),
            seats: BTreeMap::new(),
        }
    }

    fn store(&self) -> &dyn Store {
        self.db.store.as_ref()
    }

    fn key(id: Uuid) -> LeadKey {
        LeadKey {
            id,
            token: SecretToken::generate().hash(),
        }
    }

    /// The registration a step asks for, with the manage token it carries.
    fn registration(&self, step: Step) -> (&'static str, NewRegistration, SecretToken) {
        let (who, slot, lead) = match step {
            Fresh(who, slug, slot) => (
                who,
                slot,
                RegistrationLead::New {
                    lead: Box::new(lead(slug, &format!("{who}@example.com"))),
                    key: Self::key(Uuid::now_v7()),
                },
            ),
            WithLead(who, slot) => (who, slot, RegistrationLead::Known(self.leads[who].0.clone())),
            WrongToken(who, slot) => (who, slot, RegistrationLead::Known(Self::key(self.leads[who].0.id))),
            other => panic!("{other:?} is not a registration"),
        };
        let manage = SecretToken::generate();
        let new = NewRegistration {
            id: Uuid::now_v7(),
            slot_id: self.slots[slot],
            lead,
            manage_token: manage.hash(),
            now: self.now,
        };
        (who, new, manage)
    }

    /// Notes what a registration came to, and checks the event the store
    /// wrote for it against the one `turnout_store::events` builds.
    async fn registered(
        &mut self,
        who: &'static str,
        manage: SecretToken,
        outcome: Result<RegistrationOutcome, RegistrationError>,
    ) -> Answer {
        match outcome {
            Ok(RegistrationOutcome::Created(registration)) => {
                self.expect_event(CONFIRMED, &registration).await;
                self.seats.insert(
                    who,
                    ManageKey {
                        id: registration.id,
                        token: manage.hash(),
                    },
                );
                Created
            }
            Ok(RegistrationOutcome::Existing(registration)) => {
                self.expect_event(MANAGE_LINK, &registration).await;
                Existing
            }
            Err(error) => refusal(error),
        }
    }

    async fn expect_event(&self, event_type: &'static str, registration: &Registration) {
        let written = self
            .db
            .scalar(&format!(
                "SELECT payload FROM outbox WHERE event_type = '{event_type}' \
                 AND payload LIKE '%{}%' ORDER BY id DESC LIMIT 1",
                registration.id
            ))
            .await;
        let written: Value = serde_json::from_str(&written).unwrap();
        let kind = EventType::parse(event_type).expect("a known event type");
        let built: Value = serde_json::from_str(&OutboxEvent::registration(kind, registration).payload).unwrap();
        assert_eq!(
            written, built,
            "the {event_type} payload written for {}",
            registration.id
        );
    }

    async fn act(&mut self, step: Step) -> Option<Answer> {
        let store = self.db.store.clone();
        let now = self.now;
        match step {
            Fresh(..) | WithLead(..) | WrongToken(..) => {
                let (who, new, manage) = self.registration(step);
                let outcome = store.create_registration(&new).await;
                Some(self.registered(who, manage, outcome).await)
            }
            Lead(who, slug) => {
                let token = SecretToken::generate();
                let key = LeadKey {
                    id: Uuid::now_v7(),
                    token: token.hash(),
                };
                store
                    .create_lead(&lead(slug, &format!("{who}@example.com")), &key, now)
                    .await
                    .unwrap();
                self.leads.insert(who, (key, token));
                None
            }
            Cancel(who) => Some(match store.cancel_registration(&self.seats[who], now).await {
                Ok(registration) if registration.status == RegistrationStatus::Cancelled => Cancelled,
                Ok(registration) => panic!("cancel left {:?}", registration.status),
                Err(error) => refusal(error),
            }),
            Reschedule(who, slot) => {
                let target = self.slots[slot];
                Some(
                    match store.reschedule_registration(&self.seats[who], target, now).await {
                        Ok(registration) if registration.slot.id == target => Moved,
                        Ok(registration) => panic!("reschedule left the seat in slot {}", registration.slot.id),
                        Err(error) => refusal(error),
                    },
                )
            }
            Close(slot) => {
                let changes = SlotChanges {
                    status: Some(SlotStatus::Closed),
                    ..SlotChanges::default()
                };
                store.update_slot(self.slots[slot], &changes, now).await.unwrap();
                None
            }
            Unpublish(slug) => {
                let changes = WebinarChanges {
                    status: Some(WebinarStatus::Draft),
                    ..WebinarChanges::default()
                };
                store
                    .update_webinar(&Slug::parse(slug).unwrap(), &changes, now)
                    .await
                    .unwrap();
                None
            }
            Later => {
                self.now += SignedDuration::from_hours(24 * 30);
                None
            }
        }
    }

    /// The steps at once: on PostgreSQL they meet in one batch.
    async fn together(&mut self, steps: &[Step]) -> Vec<Answer> {
        let store = self.db.store.clone();
        let requests: Vec<_> = steps.iter().map(|step| self.registration(*step)).collect();
        let outcomes = join_all(requests.iter().map(|(_, new, _)| store.create_registration(new))).await;
        let mut answers = Vec::new();
        for ((who, _, manage), outcome) in requests.into_iter().zip(outcomes) {
            answers.push(self.registered(who, manage, outcome).await);
        }
        answers.sort();
        answers
    }

    async fn count(&self, sql: &str) -> i64 {
        self.db
            .scalar(&format!("SELECT CAST(({sql}) AS TEXT)"))
            .await
            .parse()
            .unwrap()
    }
}

fn refusal(error: RegistrationError) -> Answer {
    match error {
        RegistrationError::SlotFull => Full,
        RegistrationError::SlotClosed => Closed,
        RegistrationError::SlotNotFound => SlotNotFound,
        RegistrationError::LeadNotFound => LeadNotFound,
        RegistrationError::WebinarNotFound => WebinarNotFound,
        RegistrationError::SlotInOtherWebinar => OtherWebinar,
        RegistrationError::NotConfirmed(_) => NotConfirmed,
        other => panic!("unexpected refusal: {other:?}"),
    }
}

#[tokio::test]
async fn both_stores_decide_registrations_by_one_table_of_scenarios() {
    for scenario in SCENARIOS {
        let mut world = World::new().await;
        for (n, act) in scenario.acts.iter().enumerate() {
            match act {
                One(step, expected) => {
                    let answer = world.act(*step).await;
                    assert_eq!(answer, *expected, "{}: step {n}, {step:?}", scenario.name);
                }
                Together(steps, expected) => {
                    let mut expected = expected.to_vec();
                    expected.sort();
                    assert_eq!(world.together(steps).await, expected, "{}: step {n}", scenario.name);
                }
            }
        }
        for (slot, taken) in scenario.seats {
            let seats = world
                .store()
                .find_slot(world.slots[slot])
                .await
                .unwrap()
                .map(|s| s.seats_taken);
            assert_eq!(seats, Some(*taken), "{}: seats of {slot}", scenario.name);
            let confirmed = world
                .count(&format!(
                    "SELECT COUNT(*) FROM registrations WHERE status = 'confirmed' AND slot_id = {}",
                    world.slots[slot]
                ))
                .await;
            assert_eq!(
                confirmed, *taken,
                "{}: confirmed registrations in {slot}",
                scenario.name
            );
        }
        assert_eq!(
            world.db.count("leads").await,
            scenario.leads,
            "{}: leads",
            scenario.name
        );
        let written = world.count("SELECT COUNT(*) FROM outbox").await;
        let expected: i64 = scenario.events.iter().map(|(_, n)| n).sum();
        for (event_type, n) in scenario.events {
            let count = world
                .count(&format!(
                    "SELECT COUNT(*) FROM outbox WHERE event_type = '{event_type}'"
                ))
                .await;
            assert_eq!(count, *n, "{}: {event_type} events", scenario.name);
        }
        assert_eq!(written, expected, "{}: no other events", scenario.name);
    }
}

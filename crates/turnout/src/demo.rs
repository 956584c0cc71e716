//! Demo data, so a newcomer sees the whole funnel at once: three published
//! webinars in three zones with two weeks of slots, and slots on both sides
//! of each zone's next daylight-saving change; two program advisors in two
//! zones for the callback windows; and one long article, a job-description
//! guide with tables and an FAQ, that promotes the first webinar. Invented
//! people throughout.

use jiff::civil::{Date, Time, Weekday, time};
use jiff::{SignedDuration, Timestamp};
use turnout_domain::article::{self, ArticleStatus, Contributor, ContributorRole, FaqEntry};
use turnout_domain::consultation::WeeklyRange;
use turnout_domain::{Email, Host, Slug, Text, TimeZone, WebinarStatus};
use turnout_store::{AdvisorError, ArticleError, NewAdvisor, NewArticle, NewSlot, NewWebinar, Store, WebinarError};

struct DemoWebinar {
    slug: &'static str,
    title: &'static str,
    summary: &'static str,
    zone: &'static str,
    duration_minutes: i64,
    hosts: &'static [(&'static str, &'static str)],
    highlights: &'static [&'static str],
    /// Local start times, every day.
    times: &'static [Time],
    capacity: i64,
}

const WEBINARS: &[DemoWebinar] = &[
    DemoWebinar {
        slug: "uplevel-your-career-with-ai-ml-genai",
        title: "Uplevel your career with AI/ML/GenAI",
        summary: "How working engineers move into machine-learning roles: the skills that matter, \
                  the projects that get noticed and a realistic plan for the next six months.",
        zone: "Asia/Kolkata",
        duration_minutes: 60,
        hosts: &[
            ("Meera Iyengar", "Principal ML Engineer"),
            ("Arjun Malhotra", "Head of Curriculum"),
        ],
        highlights: &[
            "25,000+ professionals trained",
            "Live Q&A with the hosts",
            "Free career-path guide",
        ],
        times: &[time(18, 0, 0, 0), time(20, 30, 0, 0)],
        capacity: 500,
    },
    DemoWebinar {
        slug: "nail-your-next-technical-interview",
        title: "How to nail your next technical interview",
        summary: "Coding rounds, system design and the behavioural interview: what interviewers \
                  look for and how to prepare in four weeks.",
        zone: "America/New_York",
        duration_minutes: 90,
        hosts: &[("Dana Whitfield", "Former Engineering Manager")],
        highlights: &["Mock interview walkthrough", "12,000+ interviews coached"],
        times: &[time(12, 0, 0, 0), time(19, 0, 0, 0)],
        capacity: 100,
    },
    DemoWebinar {
        slug: "system-design-for-senior-engineers",
        title: "System design for senior engineers",
        summary: "From requirements to trade-offs: a worked design of a booking system, \
                  with the questions a staff engineer asks.",
        zone: "Europe/London",
        duration_minutes: 75,
        hosts: &[
            ("Tom Ashcroft", "Staff Engineer"),
            ("Priya Natarajan", "Program Advisor"),
        ],
        highlights: &["Small groups of 20", "Design review of your own project"],
        times: &[time(18, 30, 0, 0)],
        capacity: 20,
    },
];

/// How many days of slots the demo offers from today.
const DAYS: i64 = 14;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub webinars_created: usize,
    pub slots_created: usize,
    pub advisors_created: usize,
    pub articles_created: usize,
}

/// The demo article's body, a file so it reads as Markdown.
const ARTICLE_BODY: &str = include_str!("../demo/ml-engineer-job-description.md");

const ARTICLE_FAQ: &[(&str, &str)] = &[
    (
        "Do I need a PhD to become a machine learning engineer?",
        "No. Most ML engineering roles ask for strong software engineering and a working knowledge of \
         statistics and machine learning. Research scientist roles are the ones that usually expect a PhD.",
    ),
    (
        "How is an ML engineer different from a data scientist?",
        "A data scientist finds out whether data can answer a question; an ML engineer builds and runs the \
         system that answers it in production, reliably and at scale.",
    ),
    (
        "Which programming language should I learn first?",
        "Python. Almost every ML library, tutorial and job description assumes it, and SQL comes a close second.",
    ),
    (
        "How long does the move from software engineering take?",
        "Engineers who study part time typically need six to nine months to build the foundations and one \
         convincing end-to-end project.",
    ),
];

async fn load_article(store: &dyn Store, now: Timestamp) -> anyhow::Result<usize> {
    let contributors = [
        ("Kavya Raman", "Senior Career Writer", ContributorRole::Author),
        ("Meera Iyengar", "Principal ML Engineer", ContributorRole::GuidedBy),
        (
            "Rohan Desai",
            "Engineering Manager, Applied ML",
            ContributorRole::ReviewedBy,
        ),
    ];
    let article = NewArticle {
        slug: Slug::parse("machine-learning-engineer-job-description").map_err(anyhow::Error::msg)?,
        title: Text::required("Machine learning engineer: job description, skills and salary", 200)
            .map_err(anyhow::Error::msg)?,
        summary: Text::optional(
            "What ML engineers do at each level, the skills hiring managers test for, and what the role pays \
             in India and the United States.",
            500,
        )
        .map_err(anyhow::Error::msg)?,
        body_markdown: ARTICLE_BODY.to_owned(),
        body: article::render(ARTICLE_BODY),
        contributors: contributors
            .iter()
            .map(|(name, title, role)| Contributor {
                name: (*name).into(),
                title: (*title).into(),
                role: *role,
                bio: String::new(),
            })
            .collect(),
        tags: ["machine-learning", "job-descriptions", "careers"]
            .iter()
            .map(|tag| Slug::parse(tag).map_err(anyhow::Error::msg))
            .collect::<Result<_, _>>()?,
        faq: ARTICLE_FAQ
            .iter()
            .map(|(question, answer)| FaqEntry {
                question: (*question).into(),
                answer: (*answer).into(),
            })
            .collect(),
        webinar: Some(Slug::parse(WEBINARS[0].slug).map_err(anyhow::Error::msg)?),
        status: ArticleStatus::Published,
    };
    match store.create_article(&article, now).await {
        Ok(_) => Ok(1),
        Err(ArticleError::SlugTaken) => Ok(0),
        Err(error) => Err(error.into()),
    }
}

struct DemoAdvisor {
    name: &'static str,
    email: &'static str,
    zone: &'static str,
    days: &'static [Weekday],
    /// Local hours worked on those days.
    hours: (i8, i8),
    max_calls_per_window: i64,
}

const WEEKDAYS: &[Weekday] = &[
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

/// Program advisors in two zones, so callback windows in most visitors'
/// zones have someone to call.
const ADVISORS: &[DemoAdvisor] = &[
    DemoAdvisor {
        name: "Priya Natarajan",
        email: "priya.natarajan@example.com",
        zone: "Asia/Kolkata",
        days: &[
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
        ],
        hours: (8, 21),
        max_calls_per_window: 4,
    },
    DemoAdvisor {
        name: "Marcus Bell",
        email: "marcus.bell@example.com",
        zone: "America/New_York",
        days: WEEKDAYS,
        hours: (7, 19),
        max_calls_per_window: 3,
    },
];

async fn load_advisors(store: &dyn Store, now: Timestamp) -> anyhow::Result<usize> {
    let mut created = 0;
    for demo in ADVISORS {
        let advisor = NewAdvisor {
            name: Text::required(demo.name, 100).map_err(anyhow::Error::msg)?,
            email: Email::parse(demo.email).map_err(anyhow::Error::msg)?,
            time_zone: TimeZone::parse(demo.zone).map_err(anyhow::Error::msg)?,
            availability: demo
                .days
                .iter()
                .map(|weekday| WeeklyRange {
                    weekday: *weekday,
                    starts: time(demo.hours.0, 0, 0, 0),
                    ends: time(demo.hours.1, 0, 0, 0),
                })
                .collect(),
            max_calls_per_window: demo.max_calls_per_window,
        };
        match store.create_advisor(&advisor, now).await {
            Ok(_) => created += 1,
            Err(AdvisorError::EmailTaken) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(created)
}

/// Loads the demo webinars that do not exist yet; running it again changes
/// nothing.
pub async fn load(store: &dyn Store, now: Timestamp) -> anyhow::Result<DemoSummary> {
    let mut summary = DemoSummary {
        advisors_created: load_advisors(store, now).await?,
        ..DemoSummary::default()
    };
    for demo in WEBINARS {
        let zone = TimeZone::parse(demo.zone).map_err(anyhow::Error::msg)?;
        let webinar = NewWebinar {
            slug: Slug::parse(demo.slug).map_err(anyhow::Error::msg)?,
            title: Text::required(demo.title, 200).map_err(anyhow::Error::msg)?,
            summary: Text::multiline_optional(demo.summary, 2_000).map_err(anyhow::Error::msg)?,
            time_zone: zone.clone(),
            duration_minutes: demo.duration_minutes,
            hosts: demo
                .hosts
                .iter()
                .map(|(name, title)| Host {
                    name: (*name).into(),
                    title: (*title).into(),
                })
                .collect(),
            highlights: demo.highlights.iter().map(|h| (*h).to_owned()).collect(),
            status: WebinarStatus::Published,
        };
        match store.create_webinar(&webinar, now).await {
            Ok(_) => {}
            Err(WebinarError::SlugTaken) => continue,
            Err(error) => return Err(error.into()),
        }
        let slots = demo_slots(demo, &zone, now);
        let ids = store.create_slots(&webinar.slug, &slots, now).await?;
        summary.webinars_created += 1;
        summary.slots_created += ids.len();
    }
    summary.articles_created = load_article(store, now).await?;
    Ok(summary)
}

/// Every demo time on each of the next two weeks' days, plus the days either
/// side of the zone's next daylight-saving change, in order.
fn demo_slots(demo: &DemoWebinar, zone: &TimeZone, now: Timestamp) -> Vec<NewSlot> {
    let today = now.to_zoned(zone.zone().clone()).date();
    let mut days: Vec<Date> = (0..DAYS)
        .filter_map(|n| today.checked_add(jiff::Span::new().days(n)).ok())
        .collect();
    if let Some(change) = zone.zone().following(now).next() {
        let change_day = change.timestamp().to_zoned(zone.zone().clone()).date();
        days.extend([change_day.yesterday(), change_day.tomorrow()].into_iter().flatten());
    }
    days.sort();
    days.dedup();
    let mut slots: Vec<NewSlot> = days
        .into_iter()
        .flat_map(|day| demo.times.iter().map(move |t| day.to_datetime(*t)))
        .filter_map(|local| zone.zone().to_ambiguous_timestamp(local).compatible().ok())
        .filter(|start| *start > now + SignedDuration::from_mins(30))
        .enumerate()
        .map(|(i, starts_at)| NewSlot {
            starts_at,
            // Vary the sizes a little so the listing shows real differences.
            capacity: (demo.capacity - (i as i64 % 3) * demo.capacity / 10).max(20),
        })
        .collect();
    slots.sort_by_key(|slot| slot.starts_at);
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_article_has_sections_lists_two_tables_and_a_few_minutes_of_reading() {
        let body = article::render(ARTICLE_BODY);
        assert_eq!(body.html.matches("<table>").count(), 2);
        assert!(body.html.matches("<h2>").count() >= 5);
        assert!(body.html.contains("<ul>") && body.html.contains("<ol>"));
        assert!((3..=5).contains(&body.reading_minutes), "{} words", body.words);
    }

    #[test]
    fn demo_slots_straddle_the_next_dst_change_and_keep_their_wall_clock() {
        let now: Timestamp = "2026-11-29T08:00:00Z".parse().unwrap();
        let demo = &WEBINARS[1];
        let zone = TimeZone::parse(demo.zone).unwrap();
        let slots = demo_slots(demo, &zone, now);
        let change: Timestamp = "2027-03-14T07:00:00Z".parse().unwrap();
        let before: Vec<_> = slots
            .iter()
            .filter(|s| s.starts_at < change && s.starts_at > change - SignedDuration::from_hours(48))
            .collect();
        let after: Vec<_> = slots
            .iter()
            .filter(|s| s.starts_at > change && s.starts_at < change + SignedDuration::from_hours(48))
            .collect();
        assert!(!before.is_empty() && !after.is_empty());
        for slot in before.iter().chain(after.iter()) {
            let local = slot.starts_at.to_zoned(zone.zone().clone());
            assert!(
                demo.times.contains(&local.time()),
                "{local} keeps the organiser's wall clock"
            );
        }
        assert!(slots.iter().all(|s| (20..=500).contains(&s.capacity)));
    }
}

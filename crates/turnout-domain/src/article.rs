//! Articles: the Markdown body rendered to safe HTML, its reading time,
//! and the people and questions that go with it.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
use serde::{Deserialize, Serialize};

use crate::webinar::string_enum;

/// Reading speed for the reading time: 238 words a minute, the mean silent
/// reading rate for English non-fiction in Brysbaert's 2019 meta-analysis
/// of 190 studies ("How many words do we read per minute?"). Career
/// articles are non-fiction read for content, so the non-fiction figure
/// fits better than the often-quoted 200 or 250.
pub const WORDS_PER_MINUTE: usize = 238;

string_enum! {
    /// Only published articles are shown to readers.
    ArticleStatus { Draft => "draft", Published => "published" }
}

string_enum! {
    /// How a contributor took part.
    ContributorRole { Author => "author", GuidedBy => "guided_by", ReviewedBy => "reviewed_by" }
}

impl ContributorRole {
    /// How the article page introduces them.
    pub fn label(self) -> &'static str {
        match self {
            ContributorRole::Author => "Written by",
            ContributorRole::GuidedBy => "Written under the guidance of",
            ContributorRole::ReviewedBy => "Reviewed by",
        }
    }
}

/// Someone who wrote, guided or reviewed an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    pub name: String,
    pub title: String,
    pub role: ContributorRole,
    #[serde(default)]
    pub bio: String,
}

/// A question readers ask, answered in plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaqEntry {
    pub question: String,
    pub answer: String,
}

/// Bounds on what an editor may write.
pub mod limits {
    pub const TITLE_CHARS: usize = 200;
    pub const SUMMARY_CHARS: usize = 500;
    pub const BODY_CHARS: usize = 200_000;
    pub const CONTRIBUTORS: usize = 10;
    pub const TAGS: usize = 10;
    pub const FAQ_ENTRIES: usize = 30;
    pub const NAME_CHARS: usize = 120;
    pub const BIO_CHARS: usize = 1_000;
    pub const QUESTION_CHARS: usize = 300;
    pub const ANSWER_CHARS: usize = 3_000;
}

/// An article body, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedBody {
    /// Sanitised HTML: whatever the Markdown held (raw HTML included), no
    /// script, style, event handler or `javascript:` link survives.
    pub html: String,
    pub words: usize,
    /// Whole minutes, at least one.
    pub reading_minutes: i64,
}

/// Renders Markdown (with tables) to sanitised HTML and counts its words.
pub fn render(markdown: &str) -> RenderedBody {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut words: usize = 0;
    let mut in_code_block = false;
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options)
        .inspect(|event| match event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Text(text) | Event::Code(text) if !in_code_block => words += text.split_whitespace().count(),
            _ => {}
        })
        .collect();
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events.into_iter());
    let html = ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string();
    let minutes = words.div_ceil(WORDS_PER_MINUTE).max(1);
    RenderedBody {
        html,
        words,
        reading_minutes: i64::try_from(minutes).unwrap_or(i64::MAX),
    }
}

/// "1 minute", "3 minutes".
pub fn reading_time_label(minutes: i64) -> String {
    match minutes {
        1 => "1 minute".into(),
        n => format!("{n} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_with_its_tables_and_lists() {
        let body =
            render("## Roles by level\n\n- Junior\n- Senior\n\n| Level | Salary |\n|---|---|\n| L1 | ₹12 LPA |\n");
        assert!(body.html.contains("<h2>Roles by level</h2>"), "{}", body.html);
        assert!(body.html.contains("<li>Junior</li>"));
        assert!(body.html.contains("<table>"));
        assert!(body.html.contains("<td>₹12 LPA</td>"), "{}", body.html);
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let body = render(
            "Hi <script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) \
             <a href=\"https://example.com\">ok</a>",
        );
        assert!(!body.html.contains("<script"), "{}", body.html);
        assert!(!body.html.contains("onerror"));
        assert!(!body.html.contains("javascript:"));
        assert!(body.html.contains("href=\"https://example.com\""));
        assert!(body.html.contains("rel=\"noopener noreferrer\""));
    }

    #[test]
    fn reading_time_counts_the_words_of_the_text() {
        assert_eq!(render("").reading_minutes, 1, "never zero");
        let words = "word ".repeat(WORDS_PER_MINUTE);
        assert_eq!(render(&words).words, WORDS_PER_MINUTE);
        assert_eq!(render(&words).reading_minutes, 1);
        let more = format!("# Title\n\n{words}\n\n**one** more");
        assert_eq!(render(&more).words, WORDS_PER_MINUTE + 3);
        assert_eq!(render(&more).reading_minutes, 2);
        let code = format!("{words}\n\n```\nlet code = not words to read;\n```\n");
        assert_eq!(
            render(&code).words,
            WORDS_PER_MINUTE,
            "code blocks are not read as prose"
        );
        assert_eq!(reading_time_label(3), "3 minutes");
        assert_eq!(reading_time_label(1), "1 minute");
    }
}

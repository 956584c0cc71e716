//! Message templates: files rendered with MiniJinja. The defaults are
//! compiled in; a folder set in configuration overrides any of them by
//! file name (`confirmation.html`, `sms-reminder.txt`…), so a site can
//! change its wording and branding without a build.
//!
//! A text template's first line is `Subject: …`; the rest is the body.

use std::path::PathBuf;

use minijinja::Environment;
use serde::Serialize;

const DEFAULTS: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/email/layout.html")),
    ("join-button.html", include_str!("../templates/email/join-button.html")),
    ("confirmation.txt", include_str!("../templates/email/confirmation.txt")),
    (
        "confirmation.html",
        include_str!("../templates/email/confirmation.html"),
    ),
    ("rescheduled.txt", include_str!("../templates/email/rescheduled.txt")),
    ("rescheduled.html", include_str!("../templates/email/rescheduled.html")),
    ("cancellation.txt", include_str!("../templates/email/cancellation.txt")),
    (
        "cancellation.html",
        include_str!("../templates/email/cancellation.html"),
    ),
    ("manage-link.txt", include_str!("../templates/email/manage-link.txt")),
    ("manage-link.html", include_str!("../templates/email/manage-link.html")),
    ("reminder.txt", include_str!("../templates/email/reminder.txt")),
    ("reminder.html", include_str!("../templates/email/reminder.html")),
    ("consultation.txt", include_str!("../templates/email/consultation.txt")),
    (
        "consultation.html",
        include_str!("../templates/email/consultation.html"),
    ),
    ("assignment.txt", include_str!("../templates/email/assignment.txt")),
    ("assignment.html", include_str!("../templates/email/assignment.html")),
    ("thank-you.txt", include_str!("../templates/email/thank-you.txt")),
    ("thank-you.html", include_str!("../templates/email/thank-you.html")),
    ("missed-you.txt", include_str!("../templates/email/missed-you.txt")),
    ("missed-you.html", include_str!("../templates/email/missed-you.html")),
    (
        "waitlist-joined.txt",
        include_str!("../templates/email/waitlist-joined.txt"),
    ),
    (
        "waitlist-joined.html",
        include_str!("../templates/email/waitlist-joined.html"),
    ),
    (
        "waitlist-offer.txt",
        include_str!("../templates/email/waitlist-offer.txt"),
    ),
    (
        "waitlist-offer.html",
        include_str!("../templates/email/waitlist-offer.html"),
    ),
    ("sms-reminder.txt", include_str!("../templates/sms/reminder.txt")),
    (
        "sms-confirmation.txt",
        include_str!("../templates/sms/confirmation.txt"),
    ),
    (
        "sms-waitlist-offer.txt",
        include_str!("../templates/sms/waitlist-offer.txt"),
    ),
];

/// A MiniJinja environment whose HTML escaping leaves `/` alone: the
/// default turns every URL in an attribute into `https:&#x2f;&#x2f;…`,
/// which is valid but unreadable. `&`, `<`, `>`, `"` and `'` are escaped,
/// which is what HTML needs in text and quoted attributes.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == minijinja::AutoEscape::Html
            && !value.is_safe()
            && let Some(text) = value.as_str()
        {
            return out.write_str(&escape_html(text)).map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    env
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

pub struct Templates {
    env: Environment<'static>,
}

/// A rendered text template: its subject line and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

impl Templates {
    /// The defaults, each overridden by a file of the same name in `dir`.
    pub fn new(dir: Option<PathBuf>) -> Self {
        let mut env = environment();
        env.set_keep_trailing_newline(true);
        env.set_loader(move |name| {
            if let Some(dir) = &dir
                && !name.contains(['/', '\\'])
            {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|error| {
                        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, error.to_string())
                    });
                }
            }
            Ok(DEFAULTS
                .iter()
                .find(|(default, _)| *default == name)
                .map(|(_, source)| (*source).to_owned()))
        });
        Self { env }
    }

    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String, String> {
        let template = self
            .env
            .get_template(name)
            .map_err(|error| format!("template {name}: {error}"))?;
        template
            .render(context)
            .map_err(|error| format!("template {name}: {error:#}"))
    }

    /// Renders `name` and splits off its `Subject:` line.
    pub fn render_text(&self, name: &str, context: &impl Serialize) -> Result<Text, String> {
        let rendered = self.render(name, context)?;
        let (first, body) = rendered.split_once('\n').unwrap_or((&rendered, ""));
        let subject = first
            .strip_prefix("Subject:")
            .ok_or_else(|| format!("template {name} must start with a Subject: line"))?;
        Ok(Text {
            subject: subject.trim().to_owned(),
            body: body.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let templates = Templates::new(None);
        let context = json!({
            "name": "Asha <b>", "webinar_title": "AI & you", "when": "Friday", "time_zone": "Asia/Kolkata",
            "duration_minutes": 60, "google_url": "g", "outlook_url": "o", "manage_url": "m",
            "site_name": "Turnout", "public_url": "https://example.com",
        });
        let html = templates.render("confirmation.html", &context).unwrap();
        assert!(html.contains("Asha &lt;b&gt;"), "{html}");
        assert!(
            html.contains("href=\"https://example.com\"") || !html.contains("&#x2f;"),
            "{html}"
        );
        assert!(html.contains("AI &amp; you"));
        let text = templates.render_text("confirmation.txt", &context).unwrap();
        assert_eq!(text.subject, "You're registered: AI & you");
        assert!(text.body.starts_with("Hello Asha <b>,"), "{}", text.body);
    }

    #[test]
    fn a_folder_overrides_a_template_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("reminder.txt"),
            "Subject: Soon!\nSee you, {{ name }}.\n",
        )
        .unwrap();
        let templates = Templates::new(Some(dir.path().to_owned()));
        let text = templates.render_text("reminder.txt", &json!({"name": "Ravi"})).unwrap();
        assert_eq!(text.subject, "Soon!");
        assert_eq!(text.body, "See you, Ravi.\n");
        assert!(
            templates.render("reminder.html", &json!({})).is_ok(),
            "the rest keep their defaults"
        );
    }
}

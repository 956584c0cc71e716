//! How the visitor's pages carry the site's own brand: its name, a logo,
//! an accent colour, and the links and address in the footer. Everything
//! comes from configuration and is checked when Turnout starts.

use axum::body::Bytes;

/// The largest logo taken: a header image, not a photograph.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct Brand {
    /// In the header, the footer and every page's title.
    pub site_name: String,
    pub logo: Option<Logo>,
    /// `#RRGGBB`: buttons, links and the widget's frame.
    pub accent: Option<String>,
    /// Shown in the footer as a `mailto:` link.
    pub support_email: Option<String>,
    pub terms_url: Option<String>,
    pub contact_url: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Self {
            site_name: "Turnout".into(),
            logo: None,
            accent: None,
            support_email: None,
            terms_url: None,
            contact_url: None,
        }
    }
}

/// A logo read from a file, its type known from its bytes.
#[derive(Clone)]
pub struct Logo {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// The file name it is served under, `/static/logo.{extension}`.
    pub extension: &'static str,
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Logo({}, {} bytes)", self.content_type, self.bytes.len())
    }
}

impl Logo {
    /// A PNG, JPEG, WebP or SVG image of at most [`MAX_LOGO_BYTES`], known
    /// by its first bytes, not its name.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(format!("the logo must be {} KiB or smaller", MAX_LOGO_BYTES / 1024));
        }
        let (content_type, extension) = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            ("image/png", "png")
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            ("image/jpeg", "jpg")
        } else if bytes.len() > 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            ("image/webp", "webp")
        } else if is_svg(&bytes) {
            ("image/svg+xml", "svg")
        } else {
            return Err("the logo must be a PNG, JPEG, WebP or SVG image".into());
        };
        Ok(Self {
            bytes: bytes.into(),
            content_type,
            extension,
        })
    }
}

fn is_svg(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let text = text.trim_start_matches('\u{feff}').trim_start();
    (text.starts_with("<svg") || text.starts_with("<?xml")) && text.contains("<svg")
}

/// Whether `colour` is `#RRGGBB`.
pub fn is_hex_colour(colour: &str) -> bool {
    colour.len() == 7 && colour.starts_with('#') && colour[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// The brand's colours as CSS custom properties, with text on the accent
/// dark or light by its luminance (WCAG's formula), so buttons stay legible
/// whatever colour is chosen.
pub fn stylesheet(accent: &str) -> String {
    let channel = |at: usize| {
        let value = f64::from(u8::from_str_radix(&accent[at..at + 2], 16).unwrap_or(0)) / 255.0;
        if value <= 0.039_28 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white (1.05 / (L + 0.05)) against with near-black.
    let ink = if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0622 {
        "#fff"
    } else {
        "#111827"
    };
    format!(":root {{ --accent: {accent}; --accent-ink: {ink}; }}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logo_is_known_by_its_bytes() {
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        assert_eq!(Logo::from_bytes(png).unwrap().content_type, "image/png");
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec();
        assert_eq!(Logo::from_bytes(svg).unwrap().extension, "svg");
        assert!(Logo::from_bytes(b"GIF89a".to_vec()).is_err());
        assert!(Logo::from_bytes(b"<html><svg/></html>".to_vec()).is_err());
        assert!(Logo::from_bytes(vec![0xFF; MAX_LOGO_BYTES + 1]).is_err());
    }

    #[test]
    fn text_on_the_accent_is_dark_or_light_to_stay_legible() {
        assert!(stylesheet("#1a56db").contains("--accent-ink: #fff"));
        assert!(stylesheet("#ffd400").contains("--accent-ink: #111827"));
        assert!(is_hex_colour("#0A0b0C"));
        for bad in ["0a0b0c", "#abc", "#12345g", "#1234567", "red"] {
            assert!(!is_hex_colour(bad), "{bad}");
        }
    }
}

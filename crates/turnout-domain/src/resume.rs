//! Résumés: at most 4 MiB, PDF or DOCX recognised from the bytes (never from
//! the name the client gave), and that name kept only as a harmless label.

use std::io::Cursor;

/// The largest résumé accepted, in bytes.
pub const MAX_RESUME_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeKind {
    Pdf,
    Docx,
}

impl ResumeKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ResumeKind::Pdf => "application/pdf",
            ResumeKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ResumeKind::Pdf => "pdf",
            ResumeKind::Docx => "docx",
        }
    }
}

/// What the bytes are, if they are a résumé format Turnout accepts. A DOCX
/// is a ZIP holding a content-types part and a main Word document, not any
/// ZIP.
pub fn sniff(bytes: &[u8]) -> Option<ResumeKind> {
    if bytes.starts_with(b"%PDF-") {
        return Some(ResumeKind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
        let names: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .map(|name| name.into_owned())
            .collect();
        let has = |wanted: &str| names.iter().any(|name| name == wanted);
        if has("[Content_Types].xml") && has("word/document.xml") {
            return Some(ResumeKind::Docx);
        }
    }
    None
}

/// A display name from what the client called the file: the last path
/// segment only, letters, digits and a few marks, at most 100 characters,
/// with the extension of what the bytes really are.
pub fn display_name(client_name: Option<&str>, kind: ResumeKind) -> String {
    let last = client_name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let stem = last.rsplit_once('.').map_or(last, |(stem, _)| stem);
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '_' || c.is_whitespace());
    let stem = if cleaned.is_empty() { "resume" } else { cleaned };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for name in names {
            writer.start_file(*name, options).unwrap();
            writer.write_all(b"<xml/>").unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn pdf_and_docx_are_recognised_by_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(ResumeKind::Pdf));
        let docx = zip_with(&["[Content_Types].xml", "word/document.xml", "_rels/.rels"]);
        assert_eq!(sniff(&docx), Some(ResumeKind::Docx));
    }

    #[test]
    fn other_files_are_not_resumes_whatever_their_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(
            sniff(&zip_with(&["photo.jpg"])),
            None,
            "a ZIP that is not a Word document"
        );
        assert_eq!(sniff(b"PK\x03\x04 truncated"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn display_names_never_carry_a_path() {
        assert_eq!(display_name(Some("../../etc/passwd"), ResumeKind::Pdf), "passwd.pdf");
        assert_eq!(
            display_name(Some("C:\\Users\\asha\\CV final.docx"), ResumeKind::Docx),
            "CV final.docx"
        );
        assert_eq!(display_name(Some("cv.pdf"), ResumeKind::Docx), "cv.docx");
        assert_eq!(display_name(Some("<script>.pdf"), ResumeKind::Pdf), "script.pdf");
        assert_eq!(display_name(None, ResumeKind::Pdf), "resume.pdf");
        assert_eq!(display_name(Some("..."), ResumeKind::Pdf), "resume.pdf");
    }
}

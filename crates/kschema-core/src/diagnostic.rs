//! Errors a user can cause, as miette diagnostics: the file, a caret under
//! the offending text, and a line of help.

use std::fmt;
use std::sync::Arc;

use crate::escape::printable;
use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

/// Lines longer than this are shown as an excerpt around the caret: miette
/// cannot draw a caret past column 65,535 (it panics), and nobody reads a
/// 10,000-character line in a terminal anyway.
const LONGEST_SHOWN_LINE: usize = 400;
/// Characters of context kept on each side of the caret in an excerpt.
const EXCERPT_CONTEXT: usize = 60;

/// The first five of `names` and how many more: a message about a fleet
/// names a few of its thousands (`org_a.v, org_b.v, …, and 995 more`).
pub fn first_few(names: &[String]) -> String {
    const NAMED: usize = 5;
    let mut shown: Vec<&str> = names.iter().take(NAMED).map(String::as_str).collect();
    let more = names.len().saturating_sub(NAMED);
    let more = format!("and {more} more");
    if names.len() > NAMED {
        shown.push(&more);
    }
    shown.join(", ")
}

/// A file kschema read, kept whole so diagnostics can show it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the project folder).
    pub name: String,
    language: &'static str,
    text: Arc<str>,
    /// The text diagnostics show: `text` with control and invisible
    /// characters replaced by placeholders of the same byte length, so
    /// spans still fit and no file can paint the terminal through a snippet.
    shown: Arc<str>,
    /// Byte offset where each line starts: line lookups are a binary search,
    /// not a scan from the top (a file of thousands of statements asks for
    /// thousands of spans).
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Arc<Self> {
        let name = name.into();
        let text: Arc<str> = text.into();
        let language = if name.ends_with(".sql") {
            "SQL"
        } else if name.ends_with(".toml") {
            "TOML"
        } else {
            "text"
        };
        let shown = if text
            .chars()
            .any(|c| crate::escape::is_unsafe_char(c) && !matches!(c, '\n' | '\t'))
        {
            shown_text(&text).into()
        } else {
            text.clone()
        };
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Arc::new(SourceFile {
            name,
            language,
            text,
            shown,
            line_starts,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte span of `len` characters at a 1-based line and column (as
    /// sqlparser reports them; columns count characters).
    pub fn span_at(&self, line: u64, column: u64, len_chars: usize) -> SourceSpan {
        let start = self.offset_of(line, column);
        let len = self.text[start..]
            .char_indices()
            .nth(len_chars.max(1))
            .map(|(i, _)| i)
            .unwrap_or(self.text.len() - start);
        SourceSpan::new(start.into(), len.max(usize::from(start < self.text.len())))
    }

    /// The byte span between two 1-based (line, column) locations.
    pub fn span_between(&self, start: (u64, u64), end: (u64, u64)) -> SourceSpan {
        let from = self.offset_of(start.0, start.1);
        let to = self
            .offset_of(end.0, end.1)
            .max(from + 1)
            .min(self.text.len());
        SourceSpan::new(from.into(), to.saturating_sub(from))
    }

    /// A span covering the last character (for "unexpected end of file").
    pub fn span_at_end(&self) -> SourceSpan {
        let trimmed = self.text.trim_end();
        let start = trimmed.char_indices().last().map(|(i, _)| i).unwrap_or(0);
        SourceSpan::new(start.into(), trimmed.len() - start)
    }

    /// The 1-based line a byte offset falls on.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn offset_of(&self, line: u64, column: u64) -> usize {
        let Some(&start) = usize::try_from(line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|l| self.line_starts.get(l))
        else {
            return self.text.len();
        };
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i + 1);
        let text_line = &self.text[start..end];
        let col = column.saturating_sub(1) as usize;
        start
            + text_line
                .char_indices()
                .nth(col)
                .map(|(i, _)| i)
                .unwrap_or(text_line.trim_end_matches('\n').len())
    }
}

fn shown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // A carriage return (even in CRLF) would let the snippet's line
        // overwrite itself on a terminal: shown as a space.
        if c == '\r' {
            out.push(' ');
        } else if c == '\n' || c == '\t' || !crate::escape::is_unsafe_char(c) {
            out.push(c);
        } else if c.len_utf8() == 3 {
            out.push('\u{fffd}');
        } else {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        }
    }
    out
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &'a str = &self.shown;
        let full = text.read_span(span, context_lines_before, context_lines_after)?;
        let data = full.data();
        let long = std::str::from_utf8(data)
            .map(|d| d.lines().any(|l| l.chars().count() > LONGEST_SHOWN_LINE))
            .unwrap_or(true);
        if !long {
            let contents = MietteSpanContents::new_named(
                self.name.clone(),
                data,
                *full.span(),
                full.line(),
                full.column(),
                full.line_count(),
            )
            .with_language(self.language);
            return Ok(Box::new(contents));
        }
        // Only the caret's line, and only a window of it.
        // A span may come from a parser that counts bytes: step back to the
        // character it falls in.
        let floor = |mut i: usize| {
            i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let at = floor(span.offset());
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let start = if context_lines_before == 0 && context_lines_after == 0 {
            at
        } else {
            let back = text[line_start..at].chars().rev().take(EXCERPT_CONTEXT);
            at - back.map(char::len_utf8).sum::<usize>()
        };
        let wanted_end = floor(span.offset() + span.len()).clamp(at, line_end);
        let forward = text[wanted_end..line_end].chars().take(EXCERPT_CONTEXT);
        let mut end = wanted_end + forward.map(char::len_utf8).sum::<usize>();
        // A span that is itself a whole long line is cut too.
        let longest = text[start..end]
            .char_indices()
            .nth(2 * EXCERPT_CONTEXT + 40)
            .map(|(i, _)| start + i);
        if let Some(cut) = longest {
            end = end.min(cut);
        }
        let line = text[..line_start].matches('\n').count();
        let column = text[line_start..start].chars().count();
        let contents = MietteSpanContents::new_named(
            self.name.clone(),
            &text.as_bytes()[start..end],
            SourceSpan::new(start.into(), end - start),
            line,
            column,
            1,
        )
        .with_language(self.language);
        Ok(Box::new(contents))
    }
}

/// One labelled place in a file.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: SourceSpan,
    pub text: String,
}

/// An error the user can fix, with where and how.
#[derive(Clone, Debug)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub file: Option<Arc<SourceFile>>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// Further problems found in the same pass, reported together.
    pub related: Vec<Problem>,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            file: None,
            labels: Vec::new(),
            help: None,
            related: Vec::new(),
        }
    }

    /// Points at `span` in `file`.
    pub fn at(
        mut self,
        file: &Arc<SourceFile>,
        span: SourceSpan,
        label: impl Into<String>,
    ) -> Self {
        self.file = Some(file.clone());
        self.labels.push(Label {
            span,
            text: label.into(),
        });
        self
    }

    /// Another place in the same file.
    pub fn also(mut self, span: SourceSpan, label: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: label.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Folds several problems into one report (the first leads).
    pub fn combine(mut problems: Vec<Problem>) -> Option<Problem> {
        if problems.is_empty() {
            return None;
        }
        let mut first = problems.remove(0);
        first.related.extend(problems);
        Some(first)
    }

    /// The line the first label points at, for tests and summaries.
    pub fn line(&self) -> Option<usize> {
        let file = self.file.as_ref()?;
        let label = self.labels.first()?;
        Some(file.line_of(label.span.offset()))
    }
}

/// Messages, labels and help quote names and text from files and servers:
/// all of it is shown printable (see `escape::printable`).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&printable(&self.message))
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            // Line by line: a help of several lines keeps them.
            .map(|h| {
                let lines: Vec<String> = h.split('\n').map(|l| printable(l).into_owned()).collect();
                Box::new(lines.join("\n")) as Box<dyn fmt::Display>
            })
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.file.as_ref().map(|f| f.as_ref() as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() || self.file.is_none() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, label)| {
                let text = (!label.text.is_empty()).then(|| printable(&label.text).into_owned());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, label.span)
                } else {
                    LabeledSpan::new_with_span(text, label.span)
                }
            },
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|p| p as &dyn Diagnostic)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_count_characters_from_one() {
        let file = SourceFile::new("a.sql", "CREATE TABLE é (\n  x foo bar\n);\n");
        let span = file.span_at(2, 9, 3);
        assert_eq!(
            &file.text()[span.offset()..span.offset() + span.len()],
            "bar"
        );
        assert_eq!(file.line_of(span.offset()), 2);
    }
}

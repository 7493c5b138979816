//! Which lines of a comment are prose a command can start: lines of top-level paragraphs.
//!
//! The comment is parsed as CommonMark (pulldown-cmark), and only paragraphs directly in the
//! document count. So fenced and indented code blocks, block quotes (with their lazy
//! continuation lines), HTML blocks, headings, list items and tables are never read. Inside a
//! paragraph, inline code and inline HTML (a hidden `<!-- -->` comment, a tag) are blanked out
//! with [`BLANKED`], so neither a command quoted as code nor one hidden from the rendered comment
//! is read, and a target written as code is refused rather than dropped.
//!
//! Lines are taken from the source, not from the parsed text: `*` and `_` in a glob such as
//! `live/*/vpc` would otherwise be read as emphasis, and an entity such as `&#47;plan` would
//! become a slash.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag};

/// Stands for each character of inline code or inline HTML in a [`ProseLine`]. The user's own
/// NUL characters are turned into U+FFFD, so this one always means blanked text.
pub const BLANKED: char = '\0';

/// A line of a top-level paragraph that starts with `/` (after spaces and tabs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProseLine {
    /// 1-based line of the comment body.
    pub number: usize,
    /// The line from its first `/`, without the line ending, inline code blanked.
    pub text: String,
}

/// Every line of `body`'s top-level paragraphs whose first character other than a space or a tab
/// is `/` (U+002F; no look-alike counts), in order.
pub fn slash_lines(body: &str) -> Vec<ProseLine> {
    let mut out = Vec::new();
    let mut lines = LineNumbers::new(body);
    // Open blocks and inline elements; a paragraph at depth 0 is directly in the document.
    let mut depth = 0usize;
    // The open top-level paragraph and the source ranges to blank in it.
    let mut paragraph: Option<(Range<usize>, Vec<Range<usize>>)> = None;
    for (event, range) in Parser::new_ext(body, Options::empty()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 && matches!(tag, Tag::Paragraph) {
                    paragraph = Some((range, Vec::new()));
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some((range, blanked)) = paragraph.take() {
                        push_lines(body, range, &blanked, &mut lines, &mut out);
                    }
                }
            }
            Event::Code(_) | Event::InlineHtml(_) | Event::Html(_) => {
                if let Some((_, blanked)) = paragraph.as_mut() {
                    blanked.push(range);
                }
            }
            _ => {}
        }
    }
    out
}

fn push_lines(
    body: &str,
    range: Range<usize>,
    blanked: &[Range<usize>],
    lines: &mut LineNumbers<'_>,
    out: &mut Vec<ProseLine>,
) {
    let Some(source) = body.get(range.clone()) else {
        return;
    };
    if !source.contains('/') {
        return;
    }
    let mut text = String::with_capacity(source.len());
    // The ranges come in document order and do not overlap: walk them alongside.
    let mut blanked = blanked.iter().peekable();
    for (i, c) in source.char_indices() {
        let at = range.start + i;
        while blanked.next_if(|r| r.end <= at).is_some() {}
        let in_blank = blanked.peek().is_some_and(|r| r.contains(&at));
        text.push(match c {
            '\n' => '\n',
            _ if in_blank => BLANKED,
            BLANKED => char::REPLACEMENT_CHARACTER,
            c => c,
        });
    }
    let first = lines.line_of(range.start);
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.trim_start_matches([' ', '\t']);
        if line.starts_with('/') {
            out.push(ProseLine {
                number: first + i,
                text: line.to_owned(),
            });
        }
    }
}

/// Line numbers of byte offsets, asked in increasing order.
struct LineNumbers<'a> {
    body: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineNumbers<'a> {
    fn new(body: &'a str) -> Self {
        LineNumbers {
            body,
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        if offset > self.offset {
            let skipped = self.body.as_bytes().get(self.offset..offset).unwrap_or(&[]);
            self.line += skipped.iter().filter(|&&b| b == b'\n').count();
            self.offset = offset;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str) -> Vec<(usize, String)> {
        slash_lines(body)
            .into_iter()
            .map(|l| (l.number, l.text))
            .collect()
    }

    #[test]
    fn paragraph_lines_starting_with_a_slash_are_read_with_their_line_numbers() {
        assert_eq!(
            texts("LGTM\n\n/apply prod\n  /plan live/*/vpc\r\nthanks"),
            vec![(3, "/apply prod".into()), (4, "/plan live/*/vpc".into())]
        );
    }

    #[test]
    fn code_quotes_lists_and_headings_are_not_read() {
        for body in [
            "```\n/plan\n```",
            "~~~\n/plan\n~~~",
            "    /plan",
            "> /plan",
            "> LGTM\n/plan",
            "- /plan",
            "1. /plan",
            "# /plan",
            "/plan\n---",
            "<!--\n/plan\n-->",
            "<div>\n/plan\n</div>",
            "```\n/plan",
        ] {
            assert_eq!(texts(body), vec![], "{body:?}");
        }
    }

    #[test]
    fn inline_code_and_hidden_html_are_blanked() {
        assert_eq!(texts("`/plan`"), vec![]);
        assert_eq!(texts("LGTM <!--\n/apply prod\n-->"), vec![]);
        assert_eq!(texts("`x\n/plan`"), vec![]);
        assert_eq!(
            texts("/plan `live`"),
            vec![(1, "/plan \0\0\0\0\0\0".into())]
        );
    }

    #[test]
    fn the_users_nul_is_not_taken_for_blanked_text() {
        assert_eq!(texts("/plan \0"), vec![(1, "/plan \u{FFFD}".into())]);
    }

    #[test]
    fn look_alike_slashes_do_not_start_a_line() {
        assert_eq!(
            texts("\u{2215}plan\n\n\u{2044}plan\n\n\u{FF0F}plan"),
            vec![]
        );
    }
}

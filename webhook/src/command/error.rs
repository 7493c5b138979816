//! What can be wrong with a comment's commands, and the Markdown reply that says so.
//!
//! Replies quote what the user typed only through [`quote`]: a code span of at most
//! [`QUOTE_CHARS`] characters with backticks, control characters and anything outside ASCII
//! replaced by U+FFFD, so no input can break the reply's Markdown, mention anyone or make the
//! reply long. Every reply is at most [`MAX_REPLY_BYTES`].

use std::fmt::Write as _;

use super::markdown::BLANKED;
use super::{
    CommandKind, LineError, MAX_COMMANDS, MAX_COMMENT_BYTES, MAX_TARGETS, MAX_TARGET_BYTES,
};

/// How much of the user's text one quote shows.
pub const QUOTE_CHARS: usize = 80;
/// The most one error's reply takes.
pub const MAX_REPLY_BYTES: usize = 2048;

/// An error for the user, shown in the pull request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A line looks like a command (`/word`) but the word is none of Slipway's.
    #[error("unknown command {given:?}")]
    UnknownCommand {
        /// The word with its slash, as typed.
        given: String,
        /// The whole line corrected: `/apply prod` for `/aply prod`.
        did_you_mean: Option<String>,
    },
    /// `/cancel` or `/help` with something after it.
    #[error("{command} takes no arguments")]
    TakesNoArguments { command: CommandKind },
    #[error("{command} has {count} targets, more than {limit}", limit = MAX_TARGETS)]
    TooManyTargets { command: CommandKind, count: usize },
    /// A target that cannot be an environment, unit path or glob of this repository.
    #[error("target {given:?}: {problem}")]
    BadTarget {
        given: String,
        problem: TargetProblem,
    },
    /// Neither an environment nor a unit path (nor a glob).
    #[error("unknown target {given:?}")]
    UnknownTarget {
        given: String,
        /// The nearest environment or unit path.
        did_you_mean: Option<String>,
        /// The whole command with that correction: `/apply prod` for `/apply prdo`.
        corrected: Option<String>,
    },
    /// A glob that matches no unit path.
    #[error("glob {glob:?} matches no unit")]
    NoMatch { glob: String },
    /// More commands than [`MAX_COMMANDS`] in one comment: none runs.
    #[error("{found} commands in one comment, more than {limit}", limit = MAX_COMMANDS)]
    TooManyCommands { found: usize },
    /// A comment longer than [`MAX_COMMENT_BYTES`]: it is not read at all.
    #[error("comment of {bytes} bytes, more than {limit}", limit = MAX_COMMENT_BYTES)]
    TooLong { bytes: usize },
}

/// Why a target was refused before looking it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetProblem {
    #[error("{bytes} bytes, more than {limit}", limit = MAX_TARGET_BYTES)]
    TooLong { bytes: usize },
    /// A control character, a backtick or a character outside printable ASCII.
    #[error("character {:?} ({})", .0, code_point(.0))]
    Character(char),
    /// Written as inline code or HTML, which is not read.
    #[error("written as inline code or HTML")]
    InlineCode,
}

/// Checks a target's text: printable ASCII without backticks, at most [`MAX_TARGET_BYTES`].
pub(crate) fn check_target(target: &str) -> Result<(), TargetProblem> {
    if let Some(c) = target.chars().find(|&c| !c.is_ascii_graphic() || c == '`') {
        return Err(if c == BLANKED {
            TargetProblem::InlineCode
        } else {
            TargetProblem::Character(c)
        });
    }
    if target.len() > MAX_TARGET_BYTES {
        return Err(TargetProblem::TooLong {
            bytes: target.len(),
        });
    }
    Ok(())
}

const SEE_HELP: &str = "Comment `/help` for the list of commands.";

impl CommandError {
    /// The Markdown reply, at most [`MAX_REPLY_BYTES`].
    pub fn reply(&self) -> String {
        let text = match self {
            CommandError::UnknownCommand {
                given,
                did_you_mean: Some(line),
            } => format!(
                "{} is not a Slipway command: did you mean {}? {SEE_HELP}",
                quote(given),
                quote(line)
            ),
            CommandError::UnknownCommand {
                given,
                did_you_mean: None,
            } => format!("{} is not a Slipway command. {SEE_HELP}", quote(given)),
            CommandError::TakesNoArguments { command } => {
                format!("`{command}` takes no arguments: write `{command}` alone on its line.")
            }
            CommandError::TooManyTargets { command, count } => format!(
                "`{command}` was given {count} targets; at most {MAX_TARGETS} are read. \
                 A glob such as `live/dev/**` names many units at once."
            ),
            CommandError::BadTarget { given, problem } => {
                let why = match problem {
                    TargetProblem::TooLong { bytes } => {
                        format!("it is {bytes} bytes long, and targets are at most {MAX_TARGET_BYTES}")
                    }
                    TargetProblem::Character(c) if c.is_control() => {
                        format!("it contains the control character {}", code_point(c))
                    }
                    TargetProblem::Character('`') => "it contains a backtick".to_owned(),
                    TargetProblem::Character(c) => format!(
                        "it contains {}, which is not printable ASCII (a look-alike of `/` is not a slash)",
                        code_point(c)
                    ),
                    TargetProblem::InlineCode => "it is written as inline code or HTML, which is not read: \
                         write targets as plain text, like `/plan live/dev/vpc`"
                        .to_owned(),
                };
                format!(
                    "The target {} cannot be read: {why}. Targets are environment names, unit paths \
                     and globs over unit paths.",
                    quote(given)
                )
            }
            CommandError::UnknownTarget {
                given,
                did_you_mean,
                corrected,
            } => {
                let mut text = format!(
                    "{} is neither an environment nor a unit path of this repository.",
                    quote(given)
                );
                match (did_you_mean, corrected) {
                    (Some(name), Some(line)) => {
                        let _ = write!(text, " Did you mean {} ({})?", quote(name), quote(line));
                    }
                    (Some(name), None) | (None, Some(name)) => {
                        let _ = write!(text, " Did you mean {}?", quote(name));
                    }
                    (None, None) => {}
                }
                text
            }
            CommandError::NoMatch { glob } => format!(
                "The glob {} matches no unit path. `*` matches within one path segment, `**` any \
                 number of segments, `?` one character.",
                quote(glob)
            ),
            CommandError::TooManyCommands { found } => format!(
                "This comment has {found} commands; at most {MAX_COMMANDS} are read from one \
                 comment, so none was run. Split them over several comments."
            ),
            CommandError::TooLong { bytes } => format!(
                "This comment is {bytes} bytes long; commands are read only from comments of at \
                 most {} KiB, so none was run.",
                MAX_COMMENT_BYTES / 1024
            ),
        };
        cap(text, MAX_REPLY_BYTES)
    }
}

/// One reply for all of a comment's errors, or `None` when there are none.
pub(crate) fn render_errors(errors: &[LineError]) -> Option<String> {
    match errors {
        [] => None,
        [LineError { line: None, error }] => Some(error.reply()),
        errors => {
            let mut text = String::from("Some of this comment's commands cannot be run:\n");
            for e in errors.iter().take(MAX_COMMANDS) {
                match e.line {
                    Some(line) => {
                        let _ = write!(text, "\n- line {line}: {}", e.error.reply());
                    }
                    None => {
                        let _ = write!(text, "\n- {}", e.error.reply());
                    }
                }
            }
            if errors.len() > MAX_COMMANDS {
                let _ = write!(text, "\n- and {} more", errors.len() - MAX_COMMANDS);
            }
            text.push('\n');
            Some(text)
        }
    }
}

/// `text` as a code span that cannot break Markdown: at most [`QUOTE_CHARS`] characters
/// (then `…`), backticks, control characters and non-ASCII characters replaced by U+FFFD.
pub fn quote(text: &str) -> String {
    let mut inner = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(QUOTE_CHARS) {
        inner.push(if c == ' ' || (c.is_ascii_graphic() && c != '`') {
            c
        } else {
            char::REPLACEMENT_CHARACTER
        });
    }
    let more = if chars.next().is_some() { "…" } else { "" };
    // A code span strips one space at each end when both have one; trimmed, nothing is lost.
    let inner = inner.trim();
    if inner.is_empty() {
        format!("`{}`{more}", char::REPLACEMENT_CHARACTER)
    } else {
        format!("`{inner}`{more}")
    }
}

fn code_point(c: &char) -> String {
    format!("U+{:04X}", u32::from(*c))
}

/// Cuts `text` to at most `max` bytes on a character boundary. Replies are built within the
/// budget; this only guards it.
fn cap(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max - '…'.len_utf8();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_cannot_close_its_code_span_or_grow_long() {
        assert_eq!(quote("a`b"), "`a\u{FFFD}b`");
        assert_eq!(quote("\u{202E}evil\u{7}"), "`\u{FFFD}evil\u{FFFD}`");
        assert_eq!(quote(""), "`\u{FFFD}`");
        let long = "x".repeat(1000);
        assert_eq!(quote(&long), format!("`{}`…", "x".repeat(QUOTE_CHARS)));
    }

    #[test]
    fn targets_are_printable_ascii_without_backticks() {
        assert_eq!(check_target("live/dev/**"), Ok(()));
        assert_eq!(check_target("a`b"), Err(TargetProblem::Character('`')));
        assert_eq!(
            check_target("a\u{7}"),
            Err(TargetProblem::Character('\u{7}'))
        );
        assert_eq!(
            check_target("live\u{2215}dev"),
            Err(TargetProblem::Character('\u{2215}'))
        );
        assert_eq!(check_target("\0\0"), Err(TargetProblem::InlineCode));
        assert_eq!(
            check_target(&"a".repeat(257)),
            Err(TargetProblem::TooLong { bytes: 257 })
        );
    }

    #[test]
    fn a_control_character_in_a_target_is_named_by_its_code_point() {
        let reply = CommandError::BadTarget {
            given: "prod\u{1b}[31m".into(),
            problem: TargetProblem::Character('\u{1b}'),
        }
        .reply();
        assert!(reply.contains("U+001B"), "{reply}");
        assert!(!reply.contains('\u{1b}'), "{reply}");
    }

    #[test]
    fn several_errors_are_listed_by_line() {
        let errors = [
            LineError {
                line: Some(1),
                error: CommandError::UnknownCommand {
                    given: "/aply".into(),
                    did_you_mean: Some("/apply prod".into()),
                },
            },
            LineError {
                line: Some(3),
                error: CommandError::TakesNoArguments {
                    command: CommandKind::Cancel,
                },
            },
        ];
        let reply = render_errors(&errors).unwrap();
        assert!(
            reply.contains(
                "- line 1: `/aply` is not a Slipway command: did you mean `/apply prod`?"
            ),
            "{reply}"
        );
        assert!(
            reply.contains("- line 3: `/cancel` takes no arguments"),
            "{reply}"
        );
        assert_eq!(render_errors(&[]), None);
    }
}

//! Pull-request comment commands: a pure function from a comment's text to Slipway's commands.
//!
//! [`parse_comment`] strips what Markdown does not show as prose (fenced and indented code
//! blocks, block quotes, inline code, HTML blocks, lists and headings: [`markdown`]) and reads
//! `/plan`, `/apply`, `/unlock`, `/cancel` and `/help` from the lines of what remains
//! ([`parser`]). [`resolve`](resolve::resolve) turns a command's targets into environments and
//! unit paths against what the repository has. Every problem is a [`CommandError`] with a
//! Markdown reply that quotes the user's text safely and suggests the nearest valid command.
//!
//! It never talks to GitHub, never checks who may run what, and never runs anything: the caller
//! decides, from the author and the pull request, what to do with the commands.

pub mod error;
pub mod help;
pub mod markdown;
pub mod parser;
pub mod resolve;
mod suggest;

use std::fmt;

pub use error::{CommandError, TargetProblem};
pub use help::help_text;
pub use parser::parse_comment;
pub use resolve::{resolve, Known, Resolved, Scope};

/// At most this many commands are read from one comment; more and none runs.
pub const MAX_COMMANDS: usize = 10;
/// At most this many bytes of a comment are read; a longer comment runs nothing.
pub const MAX_COMMENT_BYTES: usize = 64 * 1024;
/// At most this many targets per command.
pub const MAX_TARGETS: usize = 50;
/// At most this many bytes per target.
pub const MAX_TARGET_BYTES: usize = 256;

/// What kind of command a line is, without its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandKind {
    Plan,
    Apply,
    Unlock,
    Cancel,
    Help,
}

impl CommandKind {
    /// Every kind, in the order `/help` lists them.
    pub const ALL: [CommandKind; 5] = [
        CommandKind::Plan,
        CommandKind::Apply,
        CommandKind::Unlock,
        CommandKind::Cancel,
        CommandKind::Help,
    ];

    /// The command's word, as written after the slash (lower case).
    pub const fn name(self) -> &'static str {
        match self {
            CommandKind::Plan => "plan",
            CommandKind::Apply => "apply",
            CommandKind::Unlock => "unlock",
            CommandKind::Cancel => "cancel",
            CommandKind::Help => "help",
        }
    }

    /// Whether the command takes targets (environments, unit paths, globs).
    pub const fn takes_targets(self) -> bool {
        match self {
            CommandKind::Plan | CommandKind::Apply | CommandKind::Unlock => true,
            CommandKind::Cancel | CommandKind::Help => false,
        }
    }

    /// The kind named by `word`, ignoring ASCII case (`/APPLY` is `/apply`).
    pub fn from_word(word: &str) -> Option<CommandKind> {
        CommandKind::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.name())
    }
}

/// One command read from a comment. Targets are as typed, validated but not resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Command {
    /// Plan the given targets, or the pull request's affected units when there are none.
    Plan { targets: Vec<String> },
    /// Apply the given environments or targets, or every planned unit when there are none.
    Apply { targets: Vec<String> },
    /// Release the pull request's locks on the given targets, or all of its locks.
    Unlock { targets: Vec<String> },
    /// Cancel the pull request's queued and running jobs.
    Cancel,
    /// Reply with the list of commands.
    Help,
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Plan { .. } => CommandKind::Plan,
            Command::Apply { .. } => CommandKind::Apply,
            Command::Unlock { .. } => CommandKind::Unlock,
            Command::Cancel => CommandKind::Cancel,
            Command::Help => CommandKind::Help,
        }
    }

    /// The targets as typed (empty for commands that take none).
    pub fn targets(&self) -> &[String] {
        match self {
            Command::Plan { targets }
            | Command::Apply { targets }
            | Command::Unlock { targets } => targets,
            Command::Cancel | Command::Help => &[],
        }
    }

    /// The command of `kind` with `targets`; targets are dropped for kinds that take none.
    pub(crate) fn new(kind: CommandKind, targets: Vec<String>) -> Command {
        match kind {
            CommandKind::Plan => Command::Plan { targets },
            CommandKind::Apply => Command::Apply { targets },
            CommandKind::Unlock => Command::Unlock { targets },
            CommandKind::Cancel => Command::Cancel,
            CommandKind::Help => Command::Help,
        }
    }
}

/// The canonical text: `/apply prod`, `/plan live/dev/vpc live/dev/rds`, `/cancel`.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind())?;
        for target in self.targets() {
            write!(f, " {target}")?;
        }
        Ok(())
    }
}

/// An error and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line of the comment body; `None` for errors about the whole comment.
    pub line: Option<usize>,
    pub error: CommandError,
}

/// What a comment asks for.
///
/// Commands and errors are independent: a typo on one line is reported and the comment's
/// other commands still stand. Comment-wide errors ([`CommandError::TooLong`],
/// [`CommandError::TooManyCommands`]) come alone, with no command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// In the order of the comment's lines.
    pub commands: Vec<Command>,
    /// In the order of the comment's lines.
    pub errors: Vec<LineError>,
}

impl Parsed {
    /// Whether the comment asks for nothing and needs no reply.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.errors.is_empty()
    }

    /// The Markdown reply to the comment's errors, or `None` when it has none.
    pub fn error_reply(&self) -> Option<String> {
        error::render_errors(&self.errors)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn all_lists_every_kind_once() {
        // Adding a kind fails to compile here until it is counted, and then ALL must list it.
        let counted = |kind: CommandKind| match kind {
            CommandKind::Plan
            | CommandKind::Apply
            | CommandKind::Unlock
            | CommandKind::Cancel
            | CommandKind::Help => 1,
        };
        assert_eq!(
            CommandKind::ALL.iter().map(|&k| counted(k)).sum::<usize>(),
            5
        );
        let unique: std::collections::HashSet<_> = CommandKind::ALL.iter().collect();
        assert_eq!(unique.len(), CommandKind::ALL.len());
        for kind in CommandKind::ALL {
            assert_eq!(CommandKind::from_word(kind.name()), Some(kind));
        }
    }

    #[test]
    fn help_lists_every_command() {
        let help = help_text();
        for kind in CommandKind::ALL {
            assert!(
                help.contains(&format!("`{}", kind.usage())),
                "{kind}: {help}"
            );
            assert!(help.contains(kind.help()), "{kind}: {help}");
        }
        assert!(help.len() < error::MAX_REPLY_BYTES, "{}", help.len());
    }

    #[test]
    fn commands_display_as_their_canonical_text() {
        let apply = Command::Apply {
            targets: vec!["prod".into()],
        };
        assert_eq!(apply.to_string(), "/apply prod");
        assert_eq!(Command::Cancel.to_string(), "/cancel");
        assert_eq!(
            Command::Plan {
                targets: vec!["live/dev/vpc".into(), "live/dev/rds".into()]
            }
            .to_string(),
            "/plan live/dev/vpc live/dev/rds"
        );
    }

    fn valid_command() -> impl Strategy<Value = Command> {
        let target = "[a-z0-9._-]{1,8}(/[a-z0-9._*?-]{1,8}){0,3}";
        (
            prop::sample::select(CommandKind::ALL.to_vec()),
            prop::collection::vec(target, 0..4),
        )
            .prop_map(|(kind, targets)| {
                Command::new(
                    kind,
                    if kind.takes_targets() {
                        targets
                    } else {
                        Vec::new()
                    },
                )
            })
    }

    /// Text that is mostly Markdown's and commands' punctuation, to reach the parser's corners.
    fn markdownish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/plan".to_owned()),
            Just("/apply prod".to_owned()),
            Just("/".to_owned()),
            Just("```".to_owned()),
            Just("~~~".to_owned()),
            Just("`".to_owned()),
            Just("> ".to_owned()),
            Just("    ".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("- ".to_owned()),
            Just("<!--".to_owned()),
            Just("-->".to_owned()),
            Just("<b>".to_owned()),
            Just("*".to_owned()),
            Just("\0".to_owned()),
            Just("\u{2215}".to_owned()),
            any::<String>(),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    fn any_error() -> impl Strategy<Value = CommandError> {
        let text = || any::<String>();
        let kind = || prop::sample::select(CommandKind::ALL.to_vec());
        prop_oneof![
            (text(), prop::option::of(text())).prop_map(|(given, did_you_mean)| {
                CommandError::UnknownCommand {
                    given,
                    did_you_mean,
                }
            }),
            kind().prop_map(|command| CommandError::TakesNoArguments { command }),
            (kind(), any::<usize>())
                .prop_map(|(command, count)| CommandError::TooManyTargets { command, count }),
            (text(), any::<char>(), any::<usize>()).prop_map(|(given, c, bytes)| {
                let problem = match bytes % 3 {
                    0 => TargetProblem::Character(c),
                    1 => TargetProblem::TooLong { bytes },
                    _ => TargetProblem::InlineCode,
                };
                CommandError::BadTarget { given, problem }
            }),
            (text(), prop::option::of(text()), prop::option::of(text())).prop_map(
                |(given, did_you_mean, corrected)| CommandError::UnknownTarget {
                    given,
                    did_you_mean,
                    corrected
                }
            ),
            text().prop_map(|glob| CommandError::NoMatch { glob }),
            any::<usize>().prop_map(|found| CommandError::TooManyCommands { found }),
            any::<usize>().prop_map(|bytes| CommandError::TooLong { bytes }),
        ]
    }

    proptest! {
        #[test]
        fn parsing_never_panics(
            body in prop_oneof![any::<String>(), markdownish()],
            previous in prop::option::of(markdownish()),
            bot in any::<bool>(),
        ) {
            let parsed = parse_comment(&body, previous.as_deref(), bot);
            prop_assert!(parsed.commands.len() <= MAX_COMMANDS);
            prop_assert!(parsed.errors.len() <= MAX_COMMANDS);
            if let Some(reply) = parsed.error_reply() {
                prop_assert!(reply.len() <= comment_reply_budget());
            }
        }

        #[test]
        fn a_command_in_code_or_a_quote_is_never_read(
            command in valid_command(),
            prose in prop::option::of("[A-Za-z ]{1,20}"),
            wrap in 0usize..8,
        ) {
            let c = command.to_string();
            let wrapped = match wrap {
                0 => format!("```\n{c}\n```"),
                1 => format!("~~~\n{c}\n~~~"),
                2 => format!("```sh\n{c}\n"),
                3 => format!("    {c}"),
                4 => format!("> {c}"),
                5 => format!("> LGTM\n{c}"),
                6 => format!("`{c}`"),
                _ => format!("Run `{c}` when ready"),
            };
            let body = match prose {
                Some(prose) => format!("{prose}\n\n{wrapped}\n\n{prose}"),
                None => wrapped,
            };
            let parsed = parse_comment(&body, None, false);
            prop_assert!(parsed.is_empty(), "{body:?}: {parsed:?}");
        }

        #[test]
        fn a_command_on_its_own_line_reads_back_as_itself(
            command in valid_command(),
            prose in "[A-Za-z ,.]{0,20}",
        ) {
            let body = format!("{prose}\n\n{command}\n");
            let parsed = parse_comment(&body, None, false);
            prop_assert_eq!(parsed.commands, vec![command]);
            prop_assert_eq!(parsed.errors, vec![]);
        }

        #[test]
        fn an_error_reply_is_at_most_two_kibibytes(error in any_error()) {
            let reply = error.reply();
            prop_assert!(reply.len() <= error::MAX_REPLY_BYTES, "{}", reply.len());
            prop_assert!(!reply.contains(markdown::BLANKED), "{reply:?}");
        }
    }

    /// Ten errors and their list's framing, well within GitHub's comment limit.
    fn comment_reply_budget() -> usize {
        MAX_COMMANDS * (error::MAX_REPLY_BYTES + 32) + 128
    }
}

//! From a comment's text to its commands.
//!
//! A command is a line of a top-level paragraph ([`markdown`](super::markdown)) whose first
//! character other than spaces and tabs is `/` (U+002F only: `∕`, `⁄` and `／` are not slashes),
//! followed by a word of ASCII letters and then whitespace or the end of the line. So
//! `/etc/hosts is fine` and `/plan.` are prose, while `/tmp is full` is read as an unknown
//! command. The word is matched ignoring ASCII case (`/APPLY prod` is `/apply prod`, with no
//! reply); the targets after it are kept as typed, separated by whitespace.
//!
//! Limits, so that any comment gets a bounded answer: a comment of more than
//! [`MAX_COMMENT_BYTES`] is not read (one [`CommandError::TooLong`]); more than [`MAX_COMMANDS`]
//! command lines run nothing (one [`CommandError::TooManyCommands`]); a command takes at most
//! [`MAX_TARGETS`] targets, each printable ASCII without backticks and at most
//! [`MAX_TARGET_BYTES`](super::MAX_TARGET_BYTES) bytes.
//!
//! An edited comment runs only its new command lines: a line whose command (word in lower case
//! and targets) the previous body already had is skipped, whether it ran or failed then. When
//! the previous body ran nothing as a whole (too long, too many commands), all of its lines
//! count as new.

use std::collections::HashSet;

use super::error::check_target;
use super::markdown::{slash_lines, ProseLine};
use super::suggest::nearest;
use super::{
    Command, CommandError, CommandKind, LineError, Parsed, MAX_COMMANDS, MAX_COMMENT_BYTES,
    MAX_TARGETS,
};

/// The commands of a comment created with `body`, or edited from `previous_body` to `body`.
/// A comment by a bot is never read: it gives nothing.
pub fn parse_comment(body: &str, previous_body: Option<&str>, author_is_bot: bool) -> Parsed {
    if author_is_bot {
        return Parsed::default();
    }
    let lines = match command_lines(body) {
        Ok(lines) => lines,
        Err(error) => return whole(error),
    };
    let already: HashSet<String> = previous_body
        .and_then(|previous| command_lines(previous).ok())
        .filter(|previous| previous.len() <= MAX_COMMANDS)
        .into_iter()
        .flatten()
        .map(|line| line.key())
        .collect();
    let new: Vec<CommandLine> = lines
        .into_iter()
        .filter(|line| !already.contains(&line.key()))
        .collect();
    if new.len() > MAX_COMMANDS {
        return whole(CommandError::TooManyCommands { found: new.len() });
    }
    let mut parsed = Parsed::default();
    for line in new {
        match line.parse() {
            Ok(command) => parsed.commands.push(command),
            Err(error) => parsed.errors.push(LineError {
                line: Some(line.number),
                error,
            }),
        }
    }
    parsed
}

fn whole(error: CommandError) -> Parsed {
    Parsed {
        commands: Vec::new(),
        errors: vec![LineError { line: None, error }],
    }
}

/// A line that looks like a command: `/word` and its arguments.
#[derive(Debug)]
struct CommandLine {
    number: usize,
    /// The word after the slash, as typed.
    word: String,
    arguments: Vec<String>,
}

/// The lines of `body` that look like commands, or [`CommandError::TooLong`].
fn command_lines(body: &str) -> Result<Vec<CommandLine>, CommandError> {
    if body.len() > MAX_COMMENT_BYTES {
        return Err(CommandError::TooLong { bytes: body.len() });
    }
    Ok(slash_lines(body)
        .iter()
        .filter_map(CommandLine::read)
        .collect())
}

impl CommandLine {
    fn read(line: &ProseLine) -> Option<CommandLine> {
        let after = line.text.strip_prefix('/')?;
        let end = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (word, rest) = after.split_at(end);
        if word.is_empty() || rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
            return None;
        }
        Some(CommandLine {
            number: line.number,
            word: word.to_owned(),
            arguments: rest.split_whitespace().map(str::to_owned).collect(),
        })
    }

    /// What makes two lines of an edit the same command.
    fn key(&self) -> String {
        let mut key = self.word.to_ascii_lowercase();
        for argument in &self.arguments {
            key.push(' ');
            key.push_str(argument);
        }
        key
    }

    fn parse(&self) -> Result<Command, CommandError> {
        let Some(kind) = CommandKind::from_word(&self.word) else {
            let lower = self.word.to_ascii_lowercase();
            let did_you_mean =
                nearest(&lower, CommandKind::ALL.map(CommandKind::name)).map(|name| {
                    let mut line = format!("/{name}");
                    for argument in &self.arguments {
                        line.push(' ');
                        line.push_str(argument);
                    }
                    line
                });
            return Err(CommandError::UnknownCommand {
                given: format!("/{}", self.word),
                did_you_mean,
            });
        };
        if !kind.takes_targets() && !self.arguments.is_empty() {
            return Err(CommandError::TakesNoArguments { command: kind });
        }
        if self.arguments.len() > MAX_TARGETS {
            return Err(CommandError::TooManyTargets {
                command: kind,
                count: self.arguments.len(),
            });
        }
        for argument in &self.arguments {
            check_target(argument).map_err(|problem| CommandError::BadTarget {
                given: argument.clone(),
                problem,
            })?;
        }
        Ok(Command::new(kind, self.arguments.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::TargetProblem;

    /// The commands of a new comment, as canonical text, and its errors.
    fn read(body: &str) -> (Vec<String>, Vec<LineError>) {
        let parsed = parse_comment(body, None, false);
        let commands = parsed.commands.iter().map(ToString::to_string).collect();
        (commands, parsed.errors)
    }

    fn error(line: usize, error: CommandError) -> LineError {
        LineError {
            line: Some(line),
            error,
        }
    }

    #[test]
    fn real_comments_give_their_commands() {
        let table: &[(&str, &[&str])] = &[
            ("LGTM\n\n/apply prod", &["/apply prod"]),
            ("/plan\r\n", &["/plan"]),
            ("  /plan live/dev/vpc", &["/plan live/dev/vpc"]),
            ("```\n/plan\n```", &[]),
            ("~~~\n/apply prod\n~~~", &[]),
            ("    /plan", &[]),
            ("> /apply prod", &[]),
            ("> LGTM\n/apply prod", &[]),
            ("Run `/apply prod` when ready", &[]),
            ("`/apply prod`", &[]),
            ("/apply prod\n/unlock", &["/apply prod", "/unlock"]),
            ("/APPLY prod", &["/apply prod"]),
            ("/Plan live/Dev/VPC", &["/plan live/Dev/VPC"]),
            ("Looks good, please run\n/plan", &["/plan"]),
            ("see /plan for details", &[]),
            ("/etc/hosts is fine", &[]),
            ("/plan.", &[]),
            (
                "/plan live/*/vpc live/**/rds",
                &["/plan live/*/vpc live/**/rds"],
            ),
            (
                "/plan   live/dev/vpc\tlive/dev/rds  ",
                &["/plan live/dev/vpc live/dev/rds"],
            ),
            ("- /apply prod", &[]),
            ("# /apply prod", &[]),
            ("<!-- /apply prod -->", &[]),
            ("LGTM <!--\n/apply prod\n-->", &[]),
            ("/cancel\n\n/help", &["/cancel", "/help"]),
            (
                "\u{2215}apply prod\n\n\u{2044}apply prod\n\n\u{FF0F}apply prod",
                &[],
            ),
            ("\u{00A0}/plan", &[]),
        ];
        for (body, expected) in table {
            let (commands, errors) = read(body);
            assert_eq!(commands, *expected, "{body:?}");
            assert_eq!(errors, vec![], "{body:?}");
        }
    }

    #[test]
    fn a_mistyped_command_suggests_the_whole_corrected_line() {
        let (commands, errors) = read("/aply prod");
        assert_eq!(commands, Vec::<String>::new());
        assert_eq!(
            errors,
            vec![error(
                1,
                CommandError::UnknownCommand {
                    given: "/aply".into(),
                    did_you_mean: Some("/apply prod".into()),
                }
            )]
        );
        let reply = errors[0].error.reply();
        assert!(reply.contains("did you mean `/apply prod`?"), "{reply}");
    }

    #[test]
    fn a_slash_word_far_from_every_command_is_unknown_without_a_suggestion() {
        let (_, errors) = read("/tmp is full");
        assert_eq!(
            errors,
            vec![error(
                1,
                CommandError::UnknownCommand {
                    given: "/tmp".into(),
                    did_you_mean: None,
                }
            )]
        );
    }

    #[test]
    fn a_bad_line_is_reported_and_the_other_commands_stand() {
        let (commands, errors) = read("/plan\n/cancel now\n/unlock live/dev/vpc");
        assert_eq!(commands, ["/plan", "/unlock live/dev/vpc"]);
        assert_eq!(
            errors,
            vec![error(
                2,
                CommandError::TakesNoArguments {
                    command: CommandKind::Cancel
                }
            )]
        );
    }

    #[test]
    fn an_edit_runs_only_the_command_lines_it_adds() {
        let parsed = parse_comment("/plan\n\n/apply dev", Some("/plan"), false);
        assert_eq!(
            parsed.commands,
            vec![Command::Apply {
                targets: vec!["dev".into()]
            }]
        );
        assert!(parsed.errors.is_empty());
        let unchanged = parse_comment("/aply prod\nthanks!", Some("/aply prod"), false);
        assert!(unchanged.is_empty(), "{unchanged:?}");
        let fixed = parse_comment("/apply prod", Some("/aply prod"), false);
        assert_eq!(fixed.commands.len(), 1);
    }

    #[test]
    fn an_edit_of_a_comment_that_ran_nothing_reads_every_line() {
        let eleven = "/plan a\n".repeat(11);
        let ten = "/plan a\n".repeat(10);
        let parsed = parse_comment(&ten, Some(&eleven), false);
        assert_eq!(parsed.commands.len(), 10);
        let long = format!("/plan\n{}", "x".repeat(MAX_COMMENT_BYTES));
        assert_eq!(parse_comment("/plan", Some(&long), false).commands.len(), 1);
    }

    #[test]
    fn a_bots_comment_is_never_read() {
        assert!(parse_comment("/apply prod", None, true).is_empty());
        let long = "x".repeat(2 * MAX_COMMENT_BYTES);
        assert!(parse_comment(&long, None, true).is_empty());
    }

    #[test]
    fn a_one_megabyte_comment_is_one_too_long_error() {
        let body = format!("/apply prod\n{}", "a".repeat(1 << 20));
        let parsed = parse_comment(&body, None, false);
        assert_eq!(parsed.commands, vec![]);
        assert_eq!(
            parsed.errors,
            vec![LineError {
                line: None,
                error: CommandError::TooLong { bytes: body.len() }
            }]
        );
        assert!(parsed.error_reply().unwrap().contains("none was run"));
    }

    #[test]
    fn ten_thousand_commands_are_one_too_many_commands_error_and_none_runs() {
        let body = "/plan\n".repeat(10_000);
        assert!(body.len() <= MAX_COMMENT_BYTES);
        let parsed = parse_comment(&body, None, false);
        assert_eq!(parsed.commands, vec![]);
        assert_eq!(
            parsed.errors,
            vec![LineError {
                line: None,
                error: CommandError::TooManyCommands { found: 10_000 }
            }]
        );
    }

    #[test]
    fn ten_commands_run_and_eleven_run_none() {
        let ten = "/plan\n\n".repeat(MAX_COMMANDS);
        assert_eq!(read(&ten).0.len(), MAX_COMMANDS);
        let eleven = format!("{ten}/help");
        let (commands, errors) = read(&eleven);
        assert!(commands.is_empty());
        assert_eq!(
            errors,
            vec![LineError {
                line: None,
                error: CommandError::TooManyCommands { found: 11 }
            }]
        );
    }

    #[test]
    fn at_most_fifty_targets_per_command() {
        let targets: Vec<String> = (0..51).map(|i| format!("live/u{i}")).collect();
        let (_, errors) = read(&format!("/plan {}", targets.join(" ")));
        assert_eq!(
            errors,
            vec![error(
                1,
                CommandError::TooManyTargets {
                    command: CommandKind::Plan,
                    count: 51
                }
            )]
        );
        let (commands, _) = read(&format!("/plan {}", targets[..50].join(" ")));
        assert_eq!(commands.len(), 1);
    }

    #[test]
    fn targets_with_control_characters_look_alikes_or_code_are_refused() {
        let cases = [
            ("/apply prod\u{7}", TargetProblem::Character('\u{7}')),
            ("/apply prod\u{1b}[0m", TargetProblem::Character('\u{1b}')),
            (
                "/plan live\u{2215}dev",
                TargetProblem::Character('\u{2215}'),
            ),
            ("/apply \u{202E}dorp", TargetProblem::Character('\u{202E}')),
            ("/plan `live/dev/vpc`", TargetProblem::InlineCode),
            ("/plan <b>live</b>", TargetProblem::InlineCode),
        ];
        for (body, problem) in cases {
            let (commands, errors) = read(body);
            assert!(commands.is_empty(), "{body:?}");
            assert!(
                matches!(&errors[..], [LineError { line: Some(1), error: CommandError::BadTarget { problem: p, .. } }] if *p == problem),
                "{body:?}: {errors:?}"
            );
        }
        let long = format!("/plan {}", "a".repeat(300));
        assert!(matches!(
            &read(&long).1[..],
            [LineError {
                error: CommandError::BadTarget {
                    problem: TargetProblem::TooLong { bytes: 300 },
                    ..
                },
                ..
            }]
        ));
    }

    #[test]
    fn pathological_markdown_up_to_the_limit_is_read_without_trouble() {
        for unit in [
            ">",
            "[",
            "*",
            "`",
            "- ",
            "<!--",
            "> - ",
            "/a ",
            "\n/plan `",
            "**/x ",
        ] {
            let body = unit.repeat(MAX_COMMENT_BYTES / unit.len());
            assert!(body.len() <= MAX_COMMENT_BYTES);
            let parsed = parse_comment(&body, Some(&body), false);
            assert!(parsed.commands.len() <= MAX_COMMANDS, "{unit:?}");
        }
    }

    #[test]
    fn errors_carry_the_line_they_were_found_on() {
        let (_, errors) = read("LGTM\n\n```\n/plan\n```\n\n/hlep\n/cancel x");
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(7), Some(8)]);
    }
}

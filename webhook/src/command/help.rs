//! The `/help` reply, generated from [`CommandKind`] so it lists every command.

use std::fmt::Write as _;

use super::{CommandKind, MAX_COMMANDS, MAX_TARGETS};

impl CommandKind {
    /// How the command is written.
    pub const fn usage(self) -> &'static str {
        match self {
            CommandKind::Plan => "/plan [target...]",
            CommandKind::Apply => "/apply [env|target...]",
            CommandKind::Unlock => "/unlock [target...]",
            CommandKind::Cancel => "/cancel",
            CommandKind::Help => "/help",
        }
    }

    /// What the command does, in one sentence.
    pub const fn help(self) -> &'static str {
        match self {
            CommandKind::Plan => {
                "Plan the targets again, or every unit the pull request affects when none is given."
            }
            CommandKind::Apply => {
                "Apply the reviewed plans of an environment or of the targets, or of every planned unit when none is given."
            }
            CommandKind::Unlock => {
                "Release this pull request's locks on the targets, or all of its locks when none is given."
            }
            CommandKind::Cancel => "Cancel this pull request's queued and running jobs.",
            CommandKind::Help => "Show this list.",
        }
    }
}

/// The Markdown of the `/help` reply.
pub fn help_text() -> String {
    let mut text = String::from(
        "**Slipway commands.** Write each at the start of its own line, outside code and quotes:\n\n",
    );
    for kind in CommandKind::ALL {
        let _ = writeln!(text, "- `{}`: {}", kind.usage(), kind.help());
    }
    let _ = write!(
        text,
        "\nA target is an environment name (`prod`), a unit path (`live/prod/vpc`) or a glob over \
         unit paths: `*` matches within one path segment, `**` any number of segments, `?` one \
         character (`live/*/vpc`, `live/dev/**`). At most {MAX_COMMANDS} commands are read from \
         one comment and {MAX_TARGETS} targets from one command. Command words may be in any \
         case; unit paths are case-sensitive.\n"
    );
    text
}

//! One module per `slipway` subcommand.

pub mod affected;
pub mod check;
pub mod graph;
pub mod plan;
pub mod prices;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

pub use serve::ServeArgs;

/// Exit code when standard output is closed early (`slipway graph | head`): what a shell shows
/// for a program ended by SIGPIPE (128 + 13).
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Writes `text` to standard output. A reader that went away (`| head`) ends the process
/// quietly with [`EXIT_BROKEN_PIPE`], as command-line tools do, instead of a panic.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("slipway: cannot write to standard output: {e}");
        }
        std::process::exit(i32::from(EXIT_BROKEN_PIPE));
    }
}

/// `s` safe to print on a terminal or inside a quoted label: control characters (newlines,
/// terminal escape sequences) are shown escaped (`\n`, `\u{1b}`), so a directory name from a
/// pull request cannot forge lines or colours of Slipway's output.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A warning for each path of the snapshot left out because its name is not UTF-8.
pub fn warn_skipped(snap: &agent::snapshot::Snapshot) {
    for p in snap.skipped() {
        eprintln!(
            "warning: {}: the name is not UTF-8; left out (nothing under it is seen as a unit or a file)",
            printable(p)
        );
    }
}

/// [`emit`] with a line end.
pub fn emitln(text: &str) {
    emit(&format!("{text}\n"));
}

/// Prints an error chain and turns it into exit code 2 (1 is kept for "blocking findings").
pub fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("slipway: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Says on standard error which `slipway.toml` a change is reviewed under (the base's: a
/// change cannot change its own gate), and what the change does to it.
pub fn note_settings(base: &str, settings: &agent::repo::Settings) {
    let short: String = settings.commit.to_string().chars().take(7).collect();
    if settings.present {
        eprintln!("settings: slipway.toml of the base {base} (commit {short})");
    } else {
        eprintln!("settings: defaults (the base {base}, commit {short}, has no slipway.toml)");
    }
    match &settings.head {
        None => {}
        Some(agent::repo::HeadSettings::Invalid(e)) => {
            eprintln!("warning: this change's slipway.toml cannot be used: {e}");
        }
        Some(
            agent::repo::HeadSettings::Changes(changes)
            | agent::repo::HeadSettings::Removed(changes),
        ) => eprintln!(
            "note: this change edits slipway.toml ({} setting(s) change, {} loosening a production protection); its settings take effect once merged",
            changes.len(),
            changes.iter().filter(|c| c.prod).count()
        ),
    }
    for key in &settings.ignored {
        eprintln!("warning: {key}: not a setting this repository may override; ignored");
    }
}

/// Logs to stderr; quiet unless `RUST_LOG` asks for more.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The change a command looks at: a repository and two revisions (`affected`, `plan`).
#[derive(Debug, Clone, clap::Args)]
pub struct ChangeArgs {
    /// The infrastructure repository (a git work tree).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The revision the change starts from (the pull request's base branch).
    #[arg(long)]
    pub base: String,
    /// The revision with the change (default: HEAD).
    #[arg(long, default_value = "HEAD")]
    pub head: String,
}

/// Output format of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

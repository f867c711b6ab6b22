//! How a run that failed, or panicked, is reported. On a terminal: a color-eyre report, the error
//! and what to do next as its suggestion; a panic prints its message and location (the dashboard
//! restores the terminal first: ratatui's panic hook runs before this one). Elsewhere (a pipe, a
//! log collector, a command's `--json`, `--log-format json`): one line, `error: … (hint: …)`.
//! A panic's backtrace only when `RUST_BACKTRACE` asks for it; an error's never (it is the
//! user's to fix, and says how).

use std::io::IsTerminal;

use clap::ArgMatches;
use color_eyre::Section;
use color_eyre::config::{HookBuilder, Theme};

use super::error::CliError;

/// How errors are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// A person reads it: sections, colours unless `NO_COLOR`.
    Report,
    /// A program reads it: one line.
    Line,
}

impl Style {
    /// A report for a person at a terminal, one line for everything else (`json_logs`: the run
    /// logs JSON lines).
    pub(super) fn for_run(matches: &ArgMatches, json_logs: bool) -> Style {
        if json_logs || asks_for_json(matches) || !std::io::stderr().is_terminal() {
            Style::Line
        } else {
            Style::Report
        }
    }
}

/// Whether the command (or one of its subcommands) was given `--json`, read from what clap
/// parsed, so a new command with the flag needs no list kept here.
fn asks_for_json(matches: &ArgMatches) -> bool {
    matches!(matches.try_get_one::<bool>("json"), Ok(Some(true)))
        || matches
            .subcommand()
            .is_some_and(|(_, sub)| asks_for_json(sub))
}

/// Installs the report and panic hooks for `style`: once, before anything else runs.
pub(super) fn install(style: Style) {
    let colour = style == Style::Report && std::env::var_os("NO_COLOR").is_none();
    let (panic_hook, eyre_hook) = HookBuilder::blank()
        .theme(if colour { Theme::dark() } else { Theme::new() })
        .display_env_section(false)
        .panic_section(
            "This is a bug in voucherdeck: please report it with the lines above. Messages in \
             progress return to their queue after their visibility timeout. RUST_BACKTRACE=1 \
             adds a backtrace.",
        )
        .into_hooks();
    // Fails only when a hook is already installed (a second call): the first one stays.
    let _ = eyre_hook.install();
    if style == Style::Report {
        panic_hook.install();
    }
}

/// Writes `err` to stderr in `style`.
pub(super) fn print(err: &CliError, style: Style) {
    eprintln!("{}", render(err, style));
}

fn render(err: &CliError, style: Style) -> String {
    match (style, err.hint()) {
        (Style::Line, Some(hint)) => format!("error: {err} (hint: {hint})"),
        (Style::Line, None) => format!("error: {err}"),
        (Style::Report, hint) => {
            // The error is the user's to fix, not a bug: where this report was made says nothing.
            let report = color_eyre::eyre::Report::msg(err.to_string()).suppress_backtrace(true);
            let report = match hint {
                Some(hint) => report.suggestion(hint),
                None => report,
            };
            format!("Error: {report:?}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::ports::BackendError;

    #[test]
    fn a_line_for_programs_a_report_with_its_suggestion_for_people() {
        install(Style::Line);
        let err = CliError::Backend(BackendError::NotFound("queue vouchers".into()));
        let line = render(&err, Style::Line);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("error: "), "{line}");
        assert!(
            line.contains("(hint: run `voucherdeck provision`"),
            "{line}"
        );
        let report = render(&err, Style::Report);
        assert!(report.contains("queue vouchers"), "{report}");
        assert!(
            report.contains("Suggestion: run `voucherdeck provision`"),
            "{report}"
        );
        let plain = render(&CliError::Failed("no such file".into()), Style::Line);
        assert_eq!(plain, "error: no such file");
    }
}

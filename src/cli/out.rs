//! Standard output of the commands. A reader that goes away (`voucherdeck status --json | head`)
//! ends the command quietly, as a closed pipe ends any Unix tool, instead of a panic.

use std::io::{self, Write};

use super::error::CliError;

/// `println!` that returns a [`CliError`] instead of panicking: [`CliError::OutputClosed`] when the
/// reader went away.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to standard output.
pub(crate) fn line(args: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| output_error(&e))
}

/// What a failed write to standard output means for the command.
pub(crate) fn output_error(e: &io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError::OutputClosed
    } else {
        CliError::Failed(format!("cannot write to standard output: {e}"))
    }
}

//! Writing to standard output without panicking when the reader is gone.
//!
//! `println!` panics when a write fails, such as on `llmops ... | head -1`
//! once `head` exits and the pipe is closed (`EPIPE`). Restoring the default
//! `SIGPIPE` action would let the kernel end the process instead, but that
//! takes `unsafe` code, which the workspace forbids, and would end the
//! command before it stores what it computed. So every command prints with
//! [`outln!`] and [`out!`]: after the first failed write, later output is
//! dropped, the command runs to its end, and [`failed_write`] tells `main`
//! whether the failure was more than a closed pipe.

use std::fmt;
use std::io::{self, Write as _};
use std::sync::Mutex;

/// The first error that writing to standard output met, if any.
static WRITE_ERROR: Mutex<Option<io::ErrorKind>> = Mutex::new(None);

/// Prints to standard output, like `print!`, but never panics.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*), false)
    };
}

/// Prints a line to standard output, like `println!`, but never panics.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*), true)
    };
}

pub(crate) use {out, outln};

/// Writes `text`, and a newline when `newline` is set, unless an earlier
/// write failed. The first failure other than a closed pipe is reported on
/// standard error.
pub(crate) fn write_stdout(text: fmt::Arguments<'_>, newline: bool) {
    let Ok(mut failed) = WRITE_ERROR.lock() else {
        return;
    };
    if failed.is_some() {
        return;
    }
    let mut stdout = io::stdout().lock();
    let mut result = stdout.write_fmt(text);
    if newline {
        result = result.and_then(|()| stdout.write_all(b"\n"));
    }
    if let Err(error) = result {
        if !is_broken_pipe(&error) {
            eprintln!("error: failed to write standard output: {error}");
        }
        *failed = Some(error.kind());
    }
}

/// Returns true for the error of writing to a pipe whose reader has exited.
pub(crate) fn is_broken_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

/// Returns true when `error` or one of its causes is a closed pipe.
pub(crate) fn caused_by_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(is_broken_pipe)
}

/// Returns true when a write to standard output failed for a reason
/// other than a closed pipe, such as a full disk; `main` then exits with 1
/// so incomplete output is never taken for complete.
pub(crate) fn failed_write() -> bool {
    WRITE_ERROR
        .lock()
        .map(|failed| failed.is_some_and(|kind| kind != io::ErrorKind::BrokenPipe))
        .unwrap_or(false)
}

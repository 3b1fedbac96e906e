//! Library error types (`thiserror`); the binary wraps them with `anyhow`.

use std::path::PathBuf;

/// A message that could not be parsed at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input holds no bytes (or only white space).
    #[error("empty message")]
    Empty,
    /// The input does not start with a header section.
    #[error("not an e-mail message: {0}")]
    NotMail(String),
}

/// An input (file, directory, mbox, stdin) that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// An I/O error on a path.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A rule file (`--rules FILE`, format in `docs/rules.md`) that could not
/// be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line of the file is not a valid rule.
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file.
        file: String,
        /// Its 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

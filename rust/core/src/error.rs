//! One error type for the whole engine. Every variant renders as one clear line; the Python
//! binding maps each variant to its own exception class.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in hyperword-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A lexicon file that cannot be used: names the file, the line and the reason.
    #[error("{path}:{line}: {reason}")]
    Lexicon { path: PathBuf, line: usize, reason: String },

    /// A configuration value out of range or inconsistent with the lexicon.
    #[error("{0}")]
    Config(String),

    /// The output directory holds something that must not be overwritten without `force`.
    #[error("{0}")]
    OutputExists(String),

    /// The output directory is being written by another live process (its lock is held).
    #[error("{0}")]
    Locked(String),

    /// A corpus on disk that does not match its manifest (corrupt, truncated, missing).
    #[error("{0}")]
    Corrupt(String),

    /// An operating-system error, with the path it concerns.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    /// An Arrow or Parquet encoding failure.
    #[error("{0}")]
    Arrow(String),

    /// The run was cancelled (Ctrl-C); nothing half-written is left visible.
    #[error("interrupted")]
    Interrupted,

    /// A broken invariant inside hyperword: a bug to report.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    /// Give a path-less I/O error the path it concerns.
    pub fn at_path(self, path: &Path) -> Self {
        match self {
            Error::Io { path: p, source } if p.as_os_str().is_empty() => Error::Io {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        }
    }

    pub fn lexicon(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        Error::Lexicon {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }
}

// I/O errors surfacing through Arrow or Parquet keep their kind (a full disk stays a full
// disk); the path is filled in by `Error::at_path` where it is known.
impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        match e {
            arrow_schema::ArrowError::IoError(_, source) => Error::Io {
                path: PathBuf::new(),
                source,
            },
            other => Error::Arrow(other.to_string()),
        }
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        match e {
            parquet::errors::ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
                Ok(io) => Error::Io {
                    path: PathBuf::new(),
                    source: *io,
                },
                Err(other) => Error::Arrow(other.to_string()),
            },
            other => Error::Arrow(other.to_string()),
        }
    }
}

/// Attach a path to an I/O result: `fs::read(p).at(p)?`.
pub trait IoContext<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

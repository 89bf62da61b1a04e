//! Exception classes, one per error kind, under a `HyperwordError` root; I/O errors become
//! the matching built-in `OSError` subclasses (as polars' `error.rs` does).

use hyperword_core::Error;
use pyo3::exceptions::{
    PyException, PyFileExistsError, PyFileNotFoundError, PyIsADirectoryError, PyKeyboardInterrupt, PyOSError,
    PyPermissionError,
};
use pyo3::prelude::*;
use pyo3::{create_exception, PyErr};
use std::io::ErrorKind;

create_exception!(
    hyperword,
    HyperwordError,
    PyException,
    "Root of every error hyperword raises itself."
);
create_exception!(
    hyperword,
    LexiconError,
    HyperwordError,
    "A lexicon file that cannot be used (file, line and reason in the message)."
);
create_exception!(
    hyperword,
    ConfigError,
    HyperwordError,
    "A configuration value that is out of range or does not fit the lexicon."
);
create_exception!(
    hyperword,
    OutputExistsError,
    HyperwordError,
    "The output directory holds a corpus that would be overwritten without force."
);
create_exception!(
    hyperword,
    OutputLockedError,
    HyperwordError,
    "The output directory is being written by another live process."
);
create_exception!(
    hyperword,
    CorruptCorpusError,
    HyperwordError,
    "A corpus on disk that does not match its manifest."
);
create_exception!(
    hyperword,
    ArrowWriteError,
    HyperwordError,
    "Arrow or Parquet failed to encode data."
);
create_exception!(
    hyperword,
    InternalError,
    HyperwordError,
    "A bug in hyperword: please report it."
);

/// Convert a core error into the Python exception users catch.
pub fn to_py(err: Error) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::Lexicon { .. } => LexiconError::new_err(msg),
        Error::Config(_) => ConfigError::new_err(msg),
        Error::OutputExists(_) => OutputExistsError::new_err(msg),
        Error::Locked(_) => OutputLockedError::new_err(msg),
        Error::Corrupt(_) => CorruptCorpusError::new_err(msg),
        Error::Arrow(_) => ArrowWriteError::new_err(msg),
        Error::Interrupted => PyKeyboardInterrupt::new_err(msg),
        Error::Internal(_) => InternalError::new_err(msg),
        Error::Io { path, source } => match source.kind() {
            // (errno, strerror, filename), as Python's own open() raises it: `e.filename` set.
            ErrorKind::NotFound if !path.as_os_str().is_empty() => {
                PyFileNotFoundError::new_err((2, "No such file or directory", path.display().to_string()))
            }
            ErrorKind::NotFound => PyFileNotFoundError::new_err(msg),
            ErrorKind::PermissionDenied => PyPermissionError::new_err(msg),
            ErrorKind::AlreadyExists => PyFileExistsError::new_err(msg),
            ErrorKind::IsADirectory => PyIsADirectoryError::new_err(msg),
            // Python prefixes "[Errno N]"; Rust's own "(os error N)" suffix would repeat it.
            _ => {
                let code = source.raw_os_error().unwrap_or(0);
                PyOSError::new_err((code, msg.trim_end_matches(&format!(" (os error {code})")).to_string()))
            }
        },
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HyperwordError", py.get_type::<HyperwordError>())?;
    m.add("LexiconError", py.get_type::<LexiconError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("OutputExistsError", py.get_type::<OutputExistsError>())?;
    m.add("OutputLockedError", py.get_type::<OutputLockedError>())?;
    m.add("CorruptCorpusError", py.get_type::<CorruptCorpusError>())?;
    m.add("ArrowWriteError", py.get_type::<ArrowWriteError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

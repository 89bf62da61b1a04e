//! `generate` (write a corpus) and `stream` (the same rows as Arrow batches, no disk).

use crate::error::to_py;
use crate::gil::enter;
use crate::lexicon::PyLexicon;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use hyperword_core::corpus::{self, CorpusStream, RunOptions};
use hyperword_core::CorpusConfig;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::path::PathBuf;
use std::sync::Mutex;

/// Write the corpus described by `config` (JSON) into `out`; returns the manifest as JSON and
/// the number of shards generated and reused by this run.
#[pyfunction]
#[pyo3(signature = (out, lexicon, config, threads=None, force=false, progress=None))]
pub fn generate(
    py: Python<'_>,
    out: PathBuf,
    lexicon: &PyLexicon,
    config: &str,
    threads: Option<usize>,
    force: bool,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<(String, u64, u64)> {
    let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
    let lexicon = lexicon.inner.clone();
    let opts = RunOptions { threads, force };
    enter(py, progress.as_ref(), move |control| {
        let (manifest, stats) = corpus::generate_with_stats(&out, &lexicon, &cfg, &opts, control)?;
        Ok((manifest.to_json(), stats.generated, stats.reused))
    })
}

/// A corpus as an Arrow C stream (`__arrow_c_stream__`), read by `pyarrow.RecordBatchReader.from_stream`.
#[pyclass(name = "BatchStream", module = "hyperword._hyperword")]
pub struct PyBatchStream {
    stream: Mutex<Option<CorpusStream>>,
}

#[pymethods]
impl PyBatchStream {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // the schema is fixed by the configuration's columns
        let stream = self
            .stream
            .lock()
            .map_err(|_| crate::error::InternalError::new_err("stream lock poisoned"))?
            .take()
            .ok_or_else(|| crate::error::HyperwordError::new_err("this stream has already been consumed"))?;
        let ffi = FFI_ArrowArrayStream::new(Box::new(stream));
        PyCapsule::new_with_value(py, ffi, c"arrow_array_stream")
    }
}

/// Validate `config` against the lexicon and return a lazily generated stream of batches.
#[pyfunction]
pub fn stream(lexicon: &PyLexicon, config: &str) -> PyResult<PyBatchStream> {
    let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
    let stream = CorpusStream::new(&lexicon.inner, &cfg).map_err(to_py)?;
    Ok(PyBatchStream {
        stream: Mutex::new(Some(stream)),
    })
}

/// The lock of an output directory, held for the length of a run (`hyperword_core::corpus::lock_output`).
#[pyclass(name = "OutputLock", module = "hyperword._hyperword")]
pub struct PyOutputLock {
    lock: Mutex<Option<corpus::OutputLock>>,
}

#[pymethods]
impl PyOutputLock {
    /// Remove the lock file and release the lock (idempotent; also done when the object is freed).
    fn release(&self) {
        if let Ok(mut lock) = self.lock.lock() {
            lock.take();
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.release();
    }
}

/// Take the lock of the output directory `dir` (created if missing); `OutputLockedError`
/// naming the live process that holds it.
#[pyfunction]
pub fn lock_output(dir: PathBuf) -> PyResult<PyOutputLock> {
    let lock = corpus::lock_output(&dir).map_err(to_py)?;
    Ok(PyOutputLock {
        lock: Mutex::new(Some(lock)),
    })
}

/// `OutputLockedError` when a live process holds the lock of `dir`; changes nothing.
#[pyfunction]
pub fn check_unlocked(dir: PathBuf) -> PyResult<()> {
    corpus::check_unlocked(&dir).map_err(to_py)
}

//! `CorpusPlan` (a corpus to write: its identity, its manifest, and its shards written in
//! parallel for the directory run that decides which) and `stream` (the same rows as Arrow
//! batches, no disk).

use crate::error::to_py;
use crate::gil::enter_reporting;
use crate::lexicon::PyLexicon;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use hyperword_core::corpus::{self, CorpusStream};
use hyperword_core::error::Error;
use hyperword_core::manifest::{fingerprint, Content, Manifest};
use hyperword_core::shard::ShardInfo;
use hyperword_core::{CorpusConfig, Generator};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::path::PathBuf;
use std::sync::Mutex;

/// The corpus `config` (JSON) of `lexicon`, compiled once (validated; an n-gram model
/// estimated): its fingerprint, its shard count, its manifest, and its shards.
#[pyclass(name = "CorpusPlan", module = "hyperword._hyperword", frozen)]
pub struct PyCorpusPlan {
    cfg: CorpusConfig,
    generator: Generator,
    content: Content,
}

#[pymethods]
impl PyCorpusPlan {
    #[new]
    fn new(lexicon: &PyLexicon, config: &str) -> PyResult<Self> {
        let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
        let generator = Generator::new(&lexicon.inner, &cfg).map_err(to_py)?;
        let content = generator.content(&lexicon.inner);
        Ok(PyCorpusPlan {
            cfg,
            generator,
            content,
        })
    }

    /// The corpus's identity (the manifest's `fingerprint`).
    #[getter]
    fn fingerprint(&self) -> String {
        fingerprint(&self.cfg, &self.content)
    }

    /// How many shards the corpus has.
    #[getter]
    fn shard_count(&self) -> u64 {
        self.cfg.shard_count()
    }

    /// `manifest.json` of the corpus made of `shards` (a JSON list of shard records).
    fn manifest(&self, shards: &str) -> PyResult<String> {
        let shards: Vec<ShardInfo> =
            serde_json::from_str(shards).map_err(|e| to_py(Error::Corrupt(format!("invalid shard records: {e}"))))?;
        Ok(Manifest::new(&self.cfg, self.content.clone(), shards).to_json())
    }

    /// Write the shards `indices` into the existing directory `out` on `threads` threads, the
    /// GIL released; `on_written` is called with each shard's record (JSON) as soon as the
    /// shard is in place, and `progress` with the words written so far, on this thread.
    #[pyo3(signature = (out, indices, on_written, threads=None, progress=None))]
    fn write_shards(
        &self,
        py: Python<'_>,
        out: PathBuf,
        indices: Vec<u64>,
        on_written: Bound<'_, PyAny>,
        threads: Option<usize>,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let on_item = |record: &String| on_written.call1((record,)).map(drop);
        enter_reporting(py, progress.as_ref(), on_item, |control, report| {
            corpus::write_shards(&out, &self.generator, &self.cfg, &indices, threads, control, |info| {
                report(serde_json::to_string(info).expect("shard info serialises"))
            })
            .map(drop)
        })
    }
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

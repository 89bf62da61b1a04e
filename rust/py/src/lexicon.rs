//! `Lexicon`: a loaded, validated lexicon, shared cheaply with the Rust engine.

use crate::error::to_py;
use hyperword_core::word::Normalization;
use hyperword_core::{Lexicon, LoadOptions};
use pyo3::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[pyclass(name = "Lexicon", module = "hyperword._hyperword", frozen)]
pub struct PyLexicon {
    pub inner: Arc<Lexicon>,
}

#[pymethods]
impl PyLexicon {
    /// Load a lexicon TSV, or a plain word list when `lang` names its language.
    #[staticmethod]
    #[pyo3(signature = (path, lang=None, strict_nfc=false))]
    fn load(py: Python<'_>, path: PathBuf, lang: Option<String>, strict_nfc: bool) -> PyResult<Self> {
        let normalization = if strict_nfc {
            Normalization::Strict
        } else {
            Normalization::Nfc
        };
        let opts = LoadOptions {
            word_list_lang: lang,
            normalization,
        };
        let lexicon = py.detach(|| Lexicon::load(&path, &opts)).map_err(to_py)?;
        Ok(PyLexicon {
            inner: Arc::new(lexicon),
        })
    }

    /// The shipped default lexicon (Multi-SimLex via Concepticon, 12 languages).
    #[staticmethod]
    fn default(py: Python<'_>) -> Self {
        PyLexicon {
            inner: Arc::new(py.detach(Lexicon::default_lexicon)),
        }
    }

    #[getter]
    fn source(&self) -> String {
        self.inner.source.display().to_string()
    }

    #[getter]
    fn langs(&self) -> Vec<String> {
        self.inner.langs.clone()
    }

    #[getter]
    fn fields(&self) -> Vec<String> {
        self.inner.fields.clone()
    }

    /// sha256 of the validated content.
    #[getter]
    fn sha256(&self) -> String {
        self.inner.content_hash().to_string()
    }

    /// Words changed by NFC normalisation on load.
    #[getter]
    fn normalized(&self) -> usize {
        self.inner.normalized
    }

    /// Number of words per language.
    fn counts(&self) -> BTreeMap<String, usize> {
        self.inner
            .langs
            .iter()
            .cloned()
            .zip(self.inner.counts_per_lang())
            .collect()
    }

    /// The words of one language, in file order.
    fn words(&self, lang: &str) -> Vec<String> {
        match self.inner.lang_index(lang) {
            Some(id) => self
                .inner
                .entries
                .iter()
                .filter(|e| e.lang == id)
                .map(|e| e.word.clone())
                .collect(),
            None => vec![],
        }
    }

    fn __len__(&self) -> usize {
        self.inner.entries.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Lexicon {} words, {} languages from {}>",
            self.inner.entries.len(),
            self.inner.langs.len(),
            self.source()
        )
    }
}

/// Validate one word as the lexicon loader does: returns it in NFC, or raises
/// `LexiconError` with the reason (`strict_nfc` rejects non-NFC words instead).
#[pyfunction]
#[pyo3(signature = (word, strict_nfc=false))]
pub fn validate_word(word: &str, strict_nfc: bool) -> PyResult<String> {
    let normalization = if strict_nfc {
        Normalization::Strict
    } else {
        Normalization::Nfc
    };
    let trimmed = word.trim();
    let valid = hyperword_core::word::validate(trimmed, normalization).map_err(crate::error::LexiconError::new_err)?;
    if valid.len() > hyperword_core::lexicon::MAX_WORD_BYTES {
        let msg = format!(
            "word of {} bytes is longer than the limit of {}",
            valid.len(),
            hyperword_core::lexicon::MAX_WORD_BYTES
        );
        return Err(crate::error::LexiconError::new_err(msg));
    }
    Ok(valid.into_owned())
}

//! `Lexicon`: a loaded, validated lexicon, shared cheaply with the Rust engine.

use crate::error::{to_py, LexiconError};
use hyperword_core::lexicon::{self, Check};
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
    let valid = lexicon::validate_word(word.trim(), normalization).map_err(LexiconError::new_err)?;
    Ok(valid.into_owned())
}

/// `text` quoted as the loader's messages quote values (Rust's `{:?}`): `"bad word"`, `"a\u{200b}b"`.
#[pyfunction]
pub fn quote(text: &str) -> String {
    format!("{text:?}")
}

/// Whether the lexicon loader accepts `code` as a language: `en`, `yue`, `zh-Hant`.
#[pyfunction]
pub fn is_language_code(code: &str) -> bool {
    lexicon::is_language_code(code)
}

/// A `concept` cell (trimmed) as the loader reads it, or `LexiconError` with the reason.
#[pyfunction]
pub fn parse_concept(text: &str) -> PyResult<u32> {
    lexicon::parse_concept(text).map_err(LexiconError::new_err)
}

/// A `weight` cell (trimmed) as the loader reads it, or `LexiconError` with the reason.
#[pyfunction]
pub fn parse_weight(text: &str) -> PyResult<f64> {
    lexicon::parse_weight(text).map_err(LexiconError::new_err)
}

/// What the loader's collecting mode found in a lexicon file: every problem with its line.
#[pyclass(name = "LexiconCheck", module = "hyperword._hyperword", frozen)]
pub struct PyLexiconCheck {
    inner: Check,
}

#[pymethods]
impl PyLexiconCheck {
    /// Whether the loader accepts the file (no problem).
    #[getter]
    fn ok(&self) -> bool {
        self.inner.ok()
    }

    /// The header's column names as the loader reads them (trimmed, lower-case).
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.inner.columns.clone()
    }

    /// The header's column names as written (trimmed).
    #[getter]
    fn header(&self) -> Vec<String> {
        self.inner.header.clone()
    }

    /// The cells (trimmed) of every row without a problem, in file order: a valid lexicon's
    /// table as the loader splits it.
    fn cells(&self) -> Vec<Vec<String>> {
        self.inner.valid.iter().map(|r| r.cells.clone()).collect()
    }

    /// Non-blank lines after the header, undecodable ones included.
    #[getter]
    fn rows(&self) -> usize {
        self.inner.rows
    }

    /// `(line, reason)` for every problem, by line; line 0 is the file as a whole.
    #[getter]
    fn problems(&self) -> Vec<(usize, String)> {
        self.inner
            .problems
            .iter()
            .map(|p| (p.line, p.message.clone()))
            .collect()
    }

    /// `(line, word, nfc)` for every word NFC normalisation changes.
    #[getter]
    fn normalized(&self) -> Vec<(usize, String, String)> {
        let n = &self.inner.normalized;
        n.iter().map(|n| (n.line, n.word.clone(), n.nfc.clone())).collect()
    }

    /// `(line, lang, word, concept, field, weight)` for every row without a problem, in
    /// file order (`weight` None when its cell is empty or absent).
    #[getter]
    fn valid(&self) -> Vec<ValidRow> {
        let rows = self.inner.valid.iter();
        rows.map(|r| {
            (
                r.line,
                r.lang.clone(),
                r.word.clone(),
                r.concept,
                r.field.clone(),
                r.weight,
            )
        })
        .collect()
    }
}

type ValidRow = (usize, String, String, Option<u32>, Option<String>, Option<f64>);

/// Check the bytes of a lexicon file as `Lexicon.load` reads it (a plain word list in `lang`
/// when given), going on past each problem: the loader's collecting mode.
#[pyfunction]
#[pyo3(signature = (data, lang=None))]
pub fn check_lexicon(py: Python<'_>, data: &[u8], lang: Option<String>) -> PyLexiconCheck {
    let opts = LoadOptions {
        word_list_lang: lang,
        ..Default::default()
    };
    PyLexiconCheck {
        inner: py.detach(|| Lexicon::check(data, &opts)),
    }
}

//! The text symbols of Dyck corpora (all logic in `hyperword_core::dyck`).

use crate::error::to_py;
use hyperword_core::dyck::{symbol, DyckConfig};
use pyo3::prelude::*;

/// The symbols of a `k`-type Dyck corpus: the `k` opening brackets (type 0 first), then the
/// `k` closing brackets, each one character.
#[pyfunction]
pub fn dyck_symbols(k: u32) -> PyResult<Vec<String>> {
    DyckConfig {
        k,
        ..Default::default()
    }
    .validate()
    .map_err(to_py)?;
    Ok([true, false]
        .into_iter()
        .flat_map(|open| (0..k).map(move |t| symbol(t, open).to_string()))
        .collect())
}

//! k-shuffle Dyck sequences: the formal language of Hu et al. 2025, "Between Circuits and
//! Chomsky" (code: michahu/pre-pretraining), as a corpus kind.
//!
//! There are `k` bracket types; each type's stream is balanced on its own, and the streams
//! interleave freely (a bracket may close while brackets of other types opened after it are
//! still open). One sequence of `seq_len` brackets is drawn as the anchor draws it:
//! - with nothing open, a bracket of a uniformly drawn type opens;
//! - at `max_depth` open brackets, one closes;
//! - otherwise a bracket opens with probability `p_open`, else one closes;
//! - a closing bracket's type is drawn uniformly among the types that have one open.
//!
//! One change makes every sequence balanced where the anchor truncates: when the positions
//! left equal the brackets still open, the rest of the sequence closes them (the same
//! uniform draw among open types). Those closing brackets count in `seq_len`, which is even.
//!
//! Each bracket is one character of Unicode's Private Use Area, which no natural text uses:
//! opening bracket `t` is U+E000 + t, closing bracket `t` is U+E000 + [`MAX_DYCK_K`] + t, so
//! the same type has the same symbol whatever `k`, and the area (U+E000–U+F8FF, 6,400 code
//! points) bounds `k`. `tokenizer train` makes each symbol one sentencepiece piece
//! (a user-defined symbol) when a Dyck corpus is among its sources.

use crate::config::MAX_SEQ_LEN;
use crate::error::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The most bracket types: the Private Use Area holds 6,400 symbols, two per type.
pub const MAX_DYCK_K: u32 = 3200;
/// The first symbol (opening bracket of type 0).
pub const FIRST_SYMBOL: u32 = 0xE000;

/// The options of a Dyck corpus (`--kind dyck`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DyckConfig {
    /// Bracket types.
    pub k: u32,
    /// Probability of opening a bracket when neither forced to open nor to close.
    pub p_open: f64,
    /// The most brackets open at once; at this depth a bracket closes.
    pub max_depth: u32,
    /// Brackets per sequence (one sequence per row), even.
    pub seq_len: u32,
}

impl Default for DyckConfig {
    /// The anchor's language: 64 types, p_open 0.51, depth 16, sequences of 2,048 brackets.
    fn default() -> Self {
        DyckConfig {
            k: 64,
            p_open: 0.51,
            max_depth: 16,
            seq_len: 2048,
        }
    }
}

impl DyckConfig {
    pub fn validate(&self) -> Result<()> {
        if self.k < 1 || self.k > MAX_DYCK_K {
            return Err(Error::config(format!(
                "dyck k must be 1 to {MAX_DYCK_K} bracket types (two symbols each in Unicode's Private Use Area), got {}",
                self.k
            )));
        }
        if !(self.p_open > 0.0 && self.p_open < 1.0) {
            return Err(Error::config(format!("p_open must be in (0, 1), got {}", self.p_open)));
        }
        if self.max_depth == 0 {
            return Err(Error::config("max depth must be at least 1"));
        }
        if self.seq_len < 2 || self.seq_len % 2 == 1 || self.seq_len > MAX_SEQ_LEN {
            return Err(Error::config(format!(
                "dyck sequence length must be an even number from 2 to {MAX_SEQ_LEN} (a balanced sequence has even length), got {}",
                self.seq_len
            )));
        }
        Ok(())
    }
}

/// The text symbol of a bracket: opening or closing bracket of type `t`.
pub fn symbol(t: u32, open: bool) -> char {
    let offset = if open { 0 } else { MAX_DYCK_K };
    char::from_u32(FIRST_SYMBOL + offset + t).expect("a Private Use Area code point")
}

/// The bracket a character stands for: `Some((type, open))`, or `None` for any other character.
pub fn bracket(c: char) -> Option<(u32, bool)> {
    let v = (c as u32).checked_sub(FIRST_SYMBOL)?;
    match v {
        v if v < MAX_DYCK_K => Some((v, true)),
        v if v < 2 * MAX_DYCK_K => Some((v - MAX_DYCK_K, false)),
        _ => None,
    }
}

/// A compiled Dyck generator: the UTF-8 bytes of every symbol and the drawing thresholds.
#[derive(Debug, Clone)]
pub struct Dyck {
    cfg: DyckConfig,
    /// UTF-8 of bracket `2t` (opening `t`) and `2t + 1` (closing `t`), in the low three bytes.
    symbols: Vec<u32>,
    /// A bracket opens when the low 32 bits of a draw are below this.
    open_threshold: u64,
}

/// The state of one sequence being drawn: open brackets per type, and the open types.
#[derive(Debug, Default)]
pub struct DyckState {
    counts: Vec<u32>,
    /// The types with an open bracket are `open_types[..open]`, in no particular order.
    open_types: Vec<u32>,
    open: usize,
}

/// `n * (x / 2^32)`, for `x` below 2^32: a uniform index into `0..n` from 32 random bits.
#[inline(always)]
fn below(n: usize, x: u64) -> usize {
    ((x * n as u64) >> 32) as usize
}

impl Dyck {
    pub fn new(cfg: &DyckConfig) -> Result<Dyck> {
        cfg.validate()?;
        let utf8 = |c: char| {
            let mut buf = [0u8; 4];
            let len = c.encode_utf8(&mut buf).len();
            debug_assert_eq!(len, 3);
            u32::from_le_bytes(buf)
        };
        Ok(Dyck {
            cfg: cfg.clone(),
            symbols: (0..cfg.k)
                .flat_map(|t| [utf8(symbol(t, true)), utf8(symbol(t, false))])
                .collect(),
            open_threshold: (cfg.p_open * 4_294_967_296.0) as u64,
        })
    }

    pub fn seq_len(&self) -> u32 {
        self.cfg.seq_len
    }

    /// Draw one sequence of `seq_len` brackets, appending its UTF-8 text to `out`. One `u64`
    /// per bracket: its low 32 bits decide open or close, its high 32 bits the type.
    #[inline]
    pub fn write_sequence<R: Rng + ?Sized>(&self, rng: &mut R, state: &mut DyckState, out: &mut Vec<u8>) {
        let k = self.cfg.k as usize;
        if state.counts.len() != k {
            *state = DyckState {
                counts: vec![0; k],
                open_types: vec![0; k + 2],
                open: 0,
            };
        }
        let (len, max_depth) = (self.cfg.seq_len, self.cfg.max_depth);
        let start = out.len();
        let bytes = 3 * len as usize;
        // Each symbol is stored as 4 bytes, the fourth overwritten by the next symbol (or
        // cut off by the final length): one spare byte.
        out.reserve(bytes + 1);
        let dst = out.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        let mut depth = 0u32;
        // Branch-free on the coin flip (the one unpredictable decision): both candidate types
        // are computed and the bookkeeping is done with selects. `open_types` has `k + 2`
        // slots, so the writes and reads one or two past the open types stay in bounds.
        let (types, counts) = (&mut state.open_types[..], &mut state.counts[..]);
        let mut open = state.open;
        for i in 0..len {
            let r = rng.next_u64();
            let hi = r >> 32;
            let coin = (r & 0xFFFF_FFFF) < self.open_threshold;
            let opens = depth == 0 || (coin & (depth < max_depth) & (depth < len - i));
            let j = below(open, hi);
            let t = if opens { below(k, hi) } else { types[j] as usize };
            let c = counts[t];
            counts[t] = if opens { c + 1 } else { c - 1 };
            let add = opens & (c == 0);
            let remove = !opens & (c == 1);
            let next = open + add as usize - remove as usize;
            // Closing the last bracket of a type: the last open type takes its slot.
            let moved = types[next];
            types[j] = if remove { moved } else { types[j] };
            // Opening the first bracket of a type: it joins the open types (otherwise this
            // writes past them, where nothing is read).
            types[open] = t as u32;
            open = next;
            depth = if opens { depth + 1 } else { depth - 1 };
            let symbol = self.symbols[2 * t + !opens as usize];
            // SAFETY: `3 * i + 4 <= bytes + 1` bytes of spare capacity were reserved above.
            unsafe { dst.add(3 * i as usize).cast::<u32>().write_unaligned(symbol.to_le()) };
        }
        state.open = open;
        // SAFETY: the first `bytes` spare bytes were all written: whole 3-byte symbols.
        unsafe { out.set_len(start + bytes) };
        debug_assert_eq!(depth, 0);
        debug_assert_eq!(state.open, 0);
    }
}

/// Check one sequence: every character a bracket of a type below `k`, each type balanced
/// (never closed before it opens), at most `max_depth` open at once, and `seq_len` long.
/// Returns the sequence's greatest depth. (For tests and `hyperword verify`-style checks.)
pub fn check_sequence(text: &str, cfg: &DyckConfig) -> Result<u32, String> {
    let mut counts = vec![0u32; cfg.k as usize];
    let (mut depth, mut deepest, mut len) = (0u32, 0u32, 0u32);
    for c in text.chars() {
        let (t, open) = bracket(c)
            .filter(|&(t, _)| t < cfg.k)
            .ok_or_else(|| format!("U+{:04X} at {len} is not a bracket of k = {}", c as u32, cfg.k))?;
        let n = &mut counts[t as usize];
        if open {
            *n += 1;
            depth += 1;
        } else {
            *n = n
                .checked_sub(1)
                .ok_or_else(|| format!("bracket type {t} closes at {len} with none open"))?;
            depth -= 1;
        }
        deepest = deepest.max(depth);
        len += 1;
    }
    if deepest > cfg.max_depth {
        return Err(format!("depth {deepest} exceeds the maximum {}", cfg.max_depth));
    }
    if depth != 0 {
        return Err(format!("{depth} bracket(s) left open"));
    }
    if len != cfg.seq_len {
        return Err(format!("{len} brackets, expected {}", cfg.seq_len));
    }
    Ok(deepest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::shard_rng;

    fn draw(cfg: &DyckConfig, seed: u64, n: usize) -> Vec<String> {
        let dyck = Dyck::new(cfg).unwrap();
        let (mut rng, mut state) = (shard_rng(seed, 0), DyckState::default());
        (0..n)
            .map(|_| {
                let mut out = Vec::new();
                dyck.write_sequence(&mut rng, &mut state, &mut out);
                String::from_utf8(out).unwrap()
            })
            .collect()
    }

    #[test]
    fn sequences_are_balanced_within_the_depth_bound() {
        for cfg in [
            DyckConfig::default(),
            DyckConfig {
                k: 1,
                p_open: 0.9,
                max_depth: 3,
                seq_len: 10,
            },
            DyckConfig {
                k: 5,
                p_open: 0.99,
                max_depth: 1,
                seq_len: 2,
            },
            DyckConfig {
                k: MAX_DYCK_K,
                p_open: 0.7,
                max_depth: 200,
                seq_len: 1000,
            },
        ] {
            for s in draw(&cfg, 7, 20) {
                check_sequence(&s, &cfg).unwrap_or_else(|e| panic!("{cfg:?}: {e}"));
            }
        }
    }

    #[test]
    fn the_depth_bound_is_reached_and_types_interleave() {
        let cfg = DyckConfig {
            k: 4,
            p_open: 0.9,
            max_depth: 6,
            seq_len: 400,
        };
        let seqs = draw(&cfg, 1, 5);
        assert!(seqs.iter().all(|s| check_sequence(s, &cfg).unwrap() == 6));
        // A shuffle, not a nested Dyck word: some bracket closes while a later-opened one of
        // another type is still open.
        let crossing = seqs.iter().any(|s| {
            let mut stack: Vec<u32> = Vec::new();
            s.chars().map(|c| bracket(c).unwrap()).any(|(t, open)| {
                if open {
                    stack.push(t);
                    false
                } else {
                    let top = stack.pop().unwrap();
                    if top != t {
                        return true;
                    }
                    false
                }
            })
        });
        assert!(crossing);
    }

    #[test]
    fn brackets_open_with_p_open_away_from_the_bounds() {
        let cfg = DyckConfig {
            k: 64,
            p_open: 0.51,
            max_depth: 16,
            seq_len: 2048,
        };
        let (mut free, mut opened) = (0u32, 0u32);
        for s in draw(&cfg, 3, 40) {
            let mut depth = 0u32;
            for (pos, c) in s.chars().enumerate() {
                let open = bracket(c).unwrap().1;
                if depth > 0 && depth < 16 && (depth as usize) < 2048 - pos {
                    free += 1;
                    opened += open as u32;
                }
                depth = if open { depth + 1 } else { depth - 1 };
            }
        }
        let rate = opened as f64 / free as f64;
        assert!(free > 50_000 && (rate - 0.51).abs() < 0.01, "{rate} over {free}");
    }

    #[test]
    fn symbols_map_both_ways_and_stay_in_the_private_use_area() {
        for t in [0, 1, 63, MAX_DYCK_K - 1] {
            for open in [true, false] {
                let c = symbol(t, open);
                assert!((0xE000..=0xF8FF).contains(&(c as u32)));
                assert_eq!(bracket(c), Some((t, open)));
            }
        }
        assert_eq!(symbol(MAX_DYCK_K - 1, false) as u32, 0xF8FF);
        assert_eq!(bracket('a'), None);
        assert_eq!(bracket('\u{F900}'), None);
    }

    #[test]
    fn rejects_bad_options() {
        let d = DyckConfig::default();
        for (cfg, needle) in [
            (DyckConfig { k: 0, ..d.clone() }, "dyck k"),
            (
                DyckConfig {
                    k: MAX_DYCK_K + 1,
                    ..d.clone()
                },
                "dyck k",
            ),
            (
                DyckConfig {
                    p_open: 0.0,
                    ..d.clone()
                },
                "p_open",
            ),
            (
                DyckConfig {
                    p_open: 1.0,
                    ..d.clone()
                },
                "p_open",
            ),
            (
                DyckConfig {
                    p_open: f64::NAN,
                    ..d.clone()
                },
                "p_open",
            ),
            (
                DyckConfig {
                    max_depth: 0,
                    ..d.clone()
                },
                "max depth",
            ),
            (
                DyckConfig {
                    seq_len: 1,
                    ..d.clone()
                },
                "sequence length",
            ),
            (
                DyckConfig {
                    seq_len: 7,
                    ..d.clone()
                },
                "even",
            ),
            (
                DyckConfig {
                    seq_len: MAX_SEQ_LEN + 2,
                    ..d.clone()
                },
                "sequence length",
            ),
        ] {
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{cfg:?}: {err}");
        }
    }
}

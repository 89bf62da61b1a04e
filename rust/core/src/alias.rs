//! Walker/Vose alias tables: O(1) weighted draws, one `u64` of randomness per draw.
//!
//! We keep our own (instead of `rand_distr::WeightedAliasIndex`) because a corpus is promised
//! to be a pure function of (lexicon, configuration, seed): the mapping from random bits to an
//! index is fixed here, not left to a dependency's version, and a draw costs one `next_u64`.

/// A weighted distribution over `0..n`.
#[derive(Debug, Clone)]
pub struct Alias {
    /// Probability, scaled to 2^32, of keeping column `i` rather than taking `alias[i]`.
    keep: Vec<u64>,
    alias: Vec<u32>,
}

impl Alias {
    /// Build from non-negative weights with a positive sum (the caller checks).
    pub fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        assert!(n > 0 && n <= u32::MAX as usize, "alias table over {n} items");
        let total: f64 = weights.iter().sum();
        assert!(total > 0.0 && total.is_finite(), "alias table weights sum to {total}");
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut keep = vec![1u64 << 32; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            keep[s] = (scaled[s] * 4_294_967_296.0) as u64;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever remains (in either list, through rounding) keeps its own column.
        Alias { keep, alias }
    }

    pub fn uniform(n: usize) -> Alias {
        Alias::new(&vec![1.0; n])
    }

    pub fn len(&self) -> usize {
        self.keep.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keep.is_empty()
    }

    /// Map 64 random bits to an index: the high half of `r * n` picks the column, the
    /// fraction left over decides between the column and its alias.
    #[inline(always)]
    pub fn sample(&self, r: u64) -> usize {
        let m = r as u128 * self.keep.len() as u128;
        let column = (m >> 64) as usize;
        let fraction = (m as u64) >> 32;
        if fraction < self.keep[column] {
            column
        } else {
            self.alias[column] as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn frequencies(weights: &[f64], draws: usize) -> Vec<f64> {
        let table = Alias::new(weights);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut counts = vec![0usize; weights.len()];
        for _ in 0..draws {
            counts[table.sample(rng.next_u64())] += 1;
        }
        counts.iter().map(|&c| c as f64 / draws as f64).collect()
    }

    #[test]
    fn matches_the_weights() {
        let weights = [1.0, 0.0, 3.0, 6.0, 0.5];
        let total: f64 = weights.iter().sum();
        for (f, w) in frequencies(&weights, 400_000).iter().zip(weights) {
            assert!((f - w / total).abs() < 0.005, "{f} vs {}", w / total);
        }
    }

    #[test]
    fn zero_weight_is_never_drawn() {
        assert_eq!(frequencies(&[0.0, 1.0, 0.0], 10_000), [0.0, 1.0, 0.0]);
    }

    #[test]
    fn uniform_is_flat() {
        for f in frequencies(&[1.0; 7], 350_000) {
            assert!((f - 1.0 / 7.0).abs() < 0.004, "{f}");
        }
    }
}

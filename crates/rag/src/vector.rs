//! The approximate nearest-neighbour vector index (HNSW).

use std::cell::RefCell;
use std::sync::LazyLock;

use instant_distance::{Builder, Hnsw, Point, Search};
use pulp::{Simd, WithSimd};
use serde::{Deserialize, Serialize};

use crate::bm25::top_k;

/// An embedding stored in the graph; distance is `1 - dot product`, which is
/// the cosine distance for the L2-normalised vectors this crate stores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Vector(pub(crate) Vec<f32>);

impl Point for Vector {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - dot(&self.0, &other.0)
    }
}

/// Dot product over the common length of `a` and `b`.
///
/// The widest vector unit the CPU has at run time does the work: AVX-512 or
/// AVX2 with fused multiply-add on x86-64, found once per process by
/// `pulp`. Four vector accumulators keep the multiply-adds independent; a
/// single running sum would make each wait for the previous one. The result
/// is deterministic on one machine, but differs from a sequential sum, and
/// between CPUs with different vector widths, in the last bits.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let len = a.len().min(b.len());
    ARCH.dispatch(Dot {
        a: &a[..len],
        b: &b[..len],
    })
}

/// The SIMD instruction set chosen for this CPU.
static ARCH: LazyLock<pulp::Arch> = LazyLock::new(pulp::Arch::new);

/// The operands of one dot product of equal-length slices.
struct Dot<'a> {
    a: &'a [f32],
    b: &'a [f32],
}

impl WithSimd for Dot<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f32 {
        const ACCUMULATORS: usize = 4;
        let (a, a_tail) = S::as_simd_f32s(self.a);
        let (b, b_tail) = S::as_simd_f32s(self.b);
        let zero = simd.splat_f32s(0.0);
        let mut sums = [zero; ACCUMULATORS];
        let a_blocks = a.chunks_exact(ACCUMULATORS);
        let b_blocks = b.chunks_exact(ACCUMULATORS);
        let (a_rest, b_rest) = (a_blocks.remainder(), b_blocks.remainder());
        for (x, y) in a_blocks.zip(b_blocks) {
            for lane in 0..ACCUMULATORS {
                sums[lane] = simd.mul_add_e_f32s(x[lane], y[lane], sums[lane]);
            }
        }
        for (lane, (x, y)) in a_rest.iter().zip(b_rest).enumerate() {
            sums[lane] = simd.mul_add_e_f32s(*x, *y, sums[lane]);
        }
        let total = simd.add_f32s(
            simd.add_f32s(sums[0], sums[1]),
            simd.add_f32s(sums[2], sums[3]),
        );
        let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
        simd.reduce_sum_f32s(total) + tail
    }
}

/// HNSW graph parameters, recorded with each index version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HnswConfig {
    /// Candidate list size while inserting; higher builds slower and
    /// finds better neighbours. Default 100.
    pub ef_construction: usize,
    /// Candidates examined per query; it also caps how many results one
    /// graph search returns. Default 100.
    pub ef_search: usize,
    /// Seed of the level assignment, so a rebuild gives the same graph.
    pub seed: u64,
}

impl Default for HnswConfig {
    fn default() -> Self {
        HnswConfig {
            ef_construction: 100,
            ef_search: 100,
            seed: 0x5eed,
        }
    }
}

thread_local! {
    /// Graph search state reused by every query on a thread.
    static SEARCH: RefCell<Search> = RefCell::new(Search::default());
}

/// Vectors of one index version in an HNSW graph.
#[derive(Serialize, Deserialize)]
pub(crate) struct VectorIndex {
    dimensions: usize,
    graph: Hnsw<Vector>,
    /// Chunk index of each graph point, by point id.
    chunk_of_point: Vec<u32>,
}

impl VectorIndex {
    /// Builds the graph over `vectors`, where `vectors[i]` belongs to chunk `i`.
    pub(crate) fn build(vectors: Vec<Vec<f32>>, dimensions: usize, config: HnswConfig) -> Self {
        let points: Vec<Vector> = vectors.into_iter().map(Vector).collect();
        let (graph, ids) = Builder::default()
            .ef_construction(config.ef_construction)
            .ef_search(config.ef_search)
            .seed(config.seed)
            .build_hnsw(points);
        let mut chunk_of_point = vec![0_u32; ids.len()];
        for (chunk, id) in ids.iter().enumerate() {
            chunk_of_point[id.into_inner() as usize] = u32::try_from(chunk).unwrap_or(u32::MAX);
        }
        VectorIndex {
            dimensions,
            graph,
            chunk_of_point,
        }
    }

    pub(crate) fn dimensions(&self) -> usize {
        self.dimensions
    }

    pub(crate) fn len(&self) -> usize {
        self.chunk_of_point.len()
    }

    /// Returns up to `k` `(chunk index, cosine similarity)` pairs, best
    /// first, among the chunks that `keep` accepts.
    ///
    /// The graph search returns at most `ef_search` candidates. When the
    /// filter leaves fewer than `k` of them, an exact scan over every vector
    /// takes over, so a selective filter still finds its matches.
    pub(crate) fn search(
        &self,
        query: &[f32],
        k: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        let point = Vector(query.to_vec());
        let mut rejected = false;
        let mut hits: Vec<(usize, f32)> = Vec::with_capacity(k);
        let mut collect = |search: &mut Search| {
            for item in self.graph.search(&point, search) {
                let chunk = self.chunk_of_point[item.pid.into_inner() as usize] as usize;
                if keep(chunk) {
                    hits.push((chunk, 1.0 - item.distance));
                } else {
                    rejected = true;
                }
                if hits.len() == k {
                    break;
                }
            }
        };
        // A search keeps a visited mark per point; reusing one per thread
        // saves allocating and clearing that array on every query.
        let reused = SEARCH.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut search) => {
                collect(&mut search);
                true
            }
            Err(_) => false,
        });
        if reused != Ok(true) {
            collect(&mut Search::default());
        }
        if hits.len() < k && hits.len() < self.len() && (rejected || k > hits.len()) {
            return self.exact_search(query, k, keep);
        }
        top_k(&mut hits, k);
        hits
    }

    /// Scores every vector that `keep` accepts.
    pub(crate) fn exact_search(
        &self,
        query: &[f32],
        k: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        let mut hits: Vec<(usize, f32)> = self
            .graph
            .iter()
            .filter_map(|(id, point)| {
                let chunk = self.chunk_of_point[id.into_inner() as usize] as usize;
                keep(chunk).then(|| (chunk, dot(query, &point.0)))
            })
            .collect();
        top_k(&mut hits, k);
        hits
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn dot_of_short_and_empty_slices() {
        assert_eq!(dot(&[], &[]), 0.0);
        assert_eq!(dot(&[2.0], &[3.0]), 6.0);
        // Only the common length counts.
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0]), 14.0);
        let ones = vec![1.0_f32; 37];
        assert_eq!(dot(&ones, &ones), 37.0);
    }

    proptest! {
        #[test]
        fn dot_matches_a_sequential_sum(
            pairs in prop::collection::vec((-1.0_f32..1.0, -1.0_f32..1.0), 0..400),
        ) {
            let (a, b): (Vec<f32>, Vec<f32>) = pairs.into_iter().unzip();
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
            let tolerance = 1e-5 * (a.len() as f64).max(1.0);
            prop_assert!((f64::from(dot(&a, &b)) - exact).abs() <= tolerance);
        }

        #[test]
        fn dot_is_symmetric(
            pairs in prop::collection::vec((-1.0_f32..1.0, -1.0_f32..1.0), 0..100),
        ) {
            let (a, b): (Vec<f32>, Vec<f32>) = pairs.into_iter().unzip();
            prop_assert_eq!(dot(&a, &b).to_bits(), dot(&b, &a).to_bits());
        }
    }
}

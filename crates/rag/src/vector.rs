//! The approximate nearest-neighbour vector index (HNSW).
//!
//! The graph stores each vector quantised to 8 bits, a quarter of its f32
//! size, because a graph search reads thousands of vectors from random
//! places in memory and waits on those reads, not on arithmetic. The f32
//! vectors are kept in one contiguous table: the candidates a search
//! finds are scored again on them, so every returned similarity is exact.

use std::cell::RefCell;
use std::sync::LazyLock;

use instant_distance::{Builder, Hnsw, Point, Search};
use pulp::{Simd, WithSimd};
use serde::{Deserialize, Serialize};

use crate::bm25::top_k;

/// An embedding as a graph point: 8-bit values times one scale.
///
/// Distance is `1 - dot product` of the dequantised vectors, which
/// approximates the cosine distance of the L2-normalised vectors this crate
/// stores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Quantized {
    scale: f32,
    values: Box<[i8]>,
}

impl Quantized {
    /// Quantises `vector` symmetrically: its largest magnitude maps to 127.
    ///
    /// A vector of zeros, or of nothing but non-finite values, gets scale 0
    /// and is at distance 1 from everything.
    pub(crate) fn new(vector: &[f32]) -> Self {
        let largest = vector
            .iter()
            .filter(|value| value.is_finite())
            .fold(0.0_f32, |largest, value| largest.max(value.abs()));
        if largest == 0.0 {
            return Quantized {
                scale: 0.0,
                values: vec![0; vector.len()].into_boxed_slice(),
            };
        }
        let factor = 127.0 / largest;
        let values = vector
            .iter()
            // `as` saturates, and turns NaN into 0.
            .map(|value| (value * factor).round().clamp(-127.0, 127.0) as i8)
            .collect();
        Quantized {
            scale: largest / 127.0,
            values,
        }
    }
}

impl Point for Quantized {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - self.scale * other.scale * dot_i8(&self.values, &other.values) as f32
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

/// Dot product of 8-bit vectors over their common length, exact in
/// integers.
///
/// The loop is plain Rust. Dispatching it through `pulp` compiles it with
/// the CPU's widest vector unit enabled, so it runs as AVX2 or AVX-512
/// multiply-adds of 16-bit products.
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i64 {
    let len = a.len().min(b.len());
    ARCH.dispatch(DotI8 {
        a: &a[..len],
        b: &b[..len],
    })
}

/// The operands of one 8-bit dot product of equal-length slices.
struct DotI8<'a> {
    a: &'a [i8],
    b: &'a [i8],
}

impl WithSimd for DotI8<'_> {
    type Output = i64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> i64 {
        // 65,536 products of at most 127 * 127 fit an i32; longer vectors
        // add their blocks' sums as i64.
        const BLOCK: usize = 1 << 16;
        self.a
            .chunks(BLOCK)
            .zip(self.b.chunks(BLOCK))
            .map(|(a, b)| {
                let sum: i32 = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| i32::from(*x) * i32::from(*y))
                    .sum();
                i64::from(sum)
            })
            .sum()
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

/// Vectors of one index version: quantised in an HNSW graph, and in f32 for
/// exact scores.
#[derive(Serialize, Deserialize)]
pub(crate) struct VectorIndex {
    dimensions: usize,
    graph: Hnsw<Quantized>,
    /// Chunk index of each graph point, by point id.
    chunk_of_point: Vec<u32>,
    /// Every chunk's vector in f32, chunk after chunk, `dimensions` each.
    exact: Vec<f32>,
}

impl VectorIndex {
    /// Builds the graph over `vectors`, where `vectors[i]` belongs to chunk `i`.
    ///
    /// Each vector should contain `dimensions` values. A shorter one is
    /// padded with zeros and a longer one cut, so one bad vector cannot shift
    /// the others in the exact table.
    pub(crate) fn build(vectors: Vec<Vec<f32>>, dimensions: usize, config: HnswConfig) -> Self {
        let mut exact = Vec::with_capacity(vectors.len() * dimensions);
        let mut points = Vec::with_capacity(vectors.len());
        for vector in vectors {
            let start = exact.len();
            exact.extend(vector.iter().take(dimensions));
            exact.resize(start + dimensions, 0.0);
            points.push(Quantized::new(&exact[start..]));
        }
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
            exact,
        }
    }

    pub(crate) fn dimensions(&self) -> usize {
        self.dimensions
    }

    pub(crate) fn len(&self) -> usize {
        self.chunk_of_point.len()
    }

    /// Checks that the tables of a loaded index agree, so that no lookup
    /// can go out of bounds.
    pub(crate) fn check_consistency(&self) -> std::result::Result<(), String> {
        let points = self.chunk_of_point.len();
        if self.graph.iter().count() != points {
            return Err("the HNSW graph and its chunk table differ in length".to_owned());
        }
        if self
            .chunk_of_point
            .iter()
            .any(|&chunk| chunk as usize >= points)
        {
            return Err("a graph point names a chunk past the end".to_owned());
        }
        if Some(self.exact.len()) != points.checked_mul(self.dimensions) {
            return Err("the vector table does not hold one vector per chunk".to_owned());
        }
        if self
            .graph
            .iter()
            .any(|(_, point)| point.values.len() != self.dimensions)
        {
            return Err("a graph point has the wrong number of dimensions".to_owned());
        }
        Ok(())
    }

    /// Returns the f32 vector of chunk `chunk`.
    fn exact(&self, chunk: usize) -> &[f32] {
        let start = chunk * self.dimensions;
        &self.exact[start..start + self.dimensions]
    }

    /// Returns up to `k` `(chunk index, cosine similarity)` pairs, best
    /// first, among the chunks that `keep` accepts.
    ///
    /// The graph search ranks by quantised distance and returns at most
    /// `ef_search` candidates, and each is scored again on its f32 vector
    /// before the best `k` are kept. When the filter leaves fewer than `k`
    /// of them, an exact scan over every vector takes over, so a selective
    /// filter still finds its matches.
    pub(crate) fn search(
        &self,
        query: &[f32],
        k: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        let point = Quantized::new(query);
        let mut rejected = false;
        let mut hits: Vec<(usize, f32)> = Vec::new();
        let mut collect = |search: &mut Search| {
            for item in self.graph.search(&point, search) {
                let chunk = self.chunk_of_point[item.pid.into_inner() as usize] as usize;
                if keep(chunk) {
                    hits.push((chunk, dot(query, self.exact(chunk))));
                } else {
                    rejected = true;
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
        let mut hits: Vec<(usize, f32)> = (0..self.len())
            .filter(|&chunk| keep(chunk))
            .map(|chunk| (chunk, dot(query, self.exact(chunk))))
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

    /// Returns a deterministic unit vector of `dimensions` values from `seed`.
    fn unit_vector(seed: u64, dimensions: usize) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut vector: Vec<f32> = (0..dimensions)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1_u64 << 24) as f32 - 0.5
            })
            .collect();
        let norm = dot(&vector, &vector).sqrt();
        vector.iter_mut().for_each(|value| *value /= norm);
        vector
    }

    #[test]
    fn quantising_maps_the_largest_magnitude_to_127() {
        let point = Quantized::new(&[0.5, -0.25, 0.0, -1.0]);
        assert_eq!(&*point.values, &[64, -32, 0, -127]);
        assert_eq!(point.scale, 1.0 / 127.0);
    }

    #[test]
    fn degenerate_vectors_get_scale_zero() {
        for vector in [vec![], vec![0.0; 4], vec![f32::NAN, f32::INFINITY]] {
            let point = Quantized::new(&vector);
            assert_eq!(point.scale, 0.0, "{vector:?}");
            assert_eq!(point.values.len(), vector.len());
            assert_eq!(point.distance(&point), 1.0);
        }
        // Non-finite values beside finite ones become 0 or saturate; the
        // finite ones set the scale.
        let point = Quantized::new(&[f32::NAN, 2.0, f32::NEG_INFINITY]);
        assert_eq!(&*point.values, &[0, 127, -127]);
    }

    #[test]
    fn search_scores_candidates_on_the_f32_vectors() {
        let dimensions = 48;
        let vectors: Vec<Vec<f32>> = (0..300).map(|seed| unit_vector(seed, dimensions)).collect();
        let index = VectorIndex::build(vectors.clone(), dimensions, HnswConfig::default());
        assert_eq!(index.check_consistency(), Ok(()));
        let mut found = 0;
        for seed in 1_000..1_020 {
            let query = unit_vector(seed, dimensions);
            let hits = index.search(&query, 10, &|_| true);
            assert_eq!(hits.len(), 10);
            for (chunk, score) in &hits {
                assert_eq!(score.to_bits(), dot(&query, &vectors[*chunk]).to_bits());
            }
            assert!(
                hits.windows(2).all(|pair| pair[0].1 >= pair[1].1),
                "{hits:?}"
            );
            let exact = index.exact_search(&query, 10, &|_| true);
            found += hits.iter().filter(|hit| exact.contains(hit)).count();
        }
        // 300 points and 100 candidates: the graph finds nearly all of the
        // true ten nearest.
        assert!(found >= 190, "recall {found} of 200");
    }

    #[test]
    fn wrong_length_vectors_padded_or_cut() {
        let index = VectorIndex::build(
            vec![vec![1.0], vec![0.0, 1.0, 5.0], vec![0.6, 0.8]],
            2,
            HnswConfig::default(),
        );
        assert_eq!(index.check_consistency(), Ok(()));
        assert_eq!(index.exact(0), &[1.0, 0.0]);
        assert_eq!(index.exact(1), &[0.0, 1.0]);
        let hits = index.search(&[0.6, 0.8], 1, &|_| true);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, 2);
        assert!((hits[0].1 - 1.0).abs() < 1e-6, "{hits:?}");
    }

    #[test]
    fn consistency_check_finds_tables_that_disagree() {
        let vectors: Vec<Vec<f32>> = (0..5).map(|seed| unit_vector(seed, 8)).collect();
        let mut index = VectorIndex::build(vectors, 8, HnswConfig::default());
        index.exact.pop();
        assert!(
            index
                .check_consistency()
                .unwrap_err()
                .contains("vector table")
        );
        index.exact.push(0.0);
        index.chunk_of_point[0] = 5;
        assert!(
            index
                .check_consistency()
                .unwrap_err()
                .contains("past the end")
        );
        index.chunk_of_point.pop();
        assert!(
            index
                .check_consistency()
                .unwrap_err()
                .contains("differ in length")
        );
    }

    proptest! {
        #[test]
        fn dot_i8_matches_an_i64_sum(
            pairs in prop::collection::vec((any::<i8>(), any::<i8>()), 0..2_000),
        ) {
            let (a, b): (Vec<i8>, Vec<i8>) = pairs.into_iter().unzip();
            let exact: i64 = a.iter().zip(&b).map(|(x, y)| i64::from(*x) * i64::from(*y)).sum();
            prop_assert_eq!(dot_i8(&a, &b), exact);
        }

        #[test]
        fn quantised_distance_stays_near_the_f32_distance(
            pairs in prop::collection::vec((-1.0_f32..1.0, -1.0_f32..1.0), 1..400),
        ) {
            let (a, b): (Vec<f32>, Vec<f32>) = pairs.into_iter().unzip();
            let (qa, qb) = (Quantized::new(&a), Quantized::new(&b));
            // Each value moves by at most half a step, so each product by
            // at most |a| * step_b / 2 + |b| * step_a / 2 + step_a * step_b / 4.
            let bound: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| {
                    f64::from(x.abs() * qb.scale + y.abs() * qa.scale) / 2.0
                        + f64::from(qa.scale * qb.scale) / 4.0
                })
                .sum::<f64>()
                + 1e-4;
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
            let approximate = 1.0 - f64::from(qa.distance(&qb));
            prop_assert!((approximate - exact).abs() <= bound, "{approximate} vs {exact}, bound {bound}");
        }
    }

    #[test]
    fn dot_i8_long_vector_no_overflow() {
        let a = vec![-128_i8; 200_000];
        assert_eq!(dot_i8(&a, &a), 200_000 * 128 * 128);
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

// sam3.cpp — what the flash attention kernels of attention.cpp (AVX2, and the generic sgemm-tile path) and
// attention_avx512.cpp share: the tiling (the same tiles give the same floats: the AVX-512 kernels must match the
// AVX2 ones bit for bit), the per-thread scratch, the state of a query sub-tile, the key masks on a transposed score
// tile, the output pass and the parallel loop over work items. Internal to those two files.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/ops.h"
#include "kernels/quantize.h"

namespace sam3::kernels::cpu::flash {

constexpr int64_t kBq = 96;    // queries per sub-tile (a multiple of 32 and of 6 and 12, the P·V register tiles)
constexpr int64_t kBk = 128;   // keys per inner tile
constexpr int64_t kGroup = 4;  // query sub-tiles per work item sharing each packed K/V tile
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kLog2e = 1.44269504088896341f;

// Q, K and V rows are a head's slice of a wider row (the qkv projection's: 12 KB apart in the ViT), so each row
// read is a cache miss the hardware prefetchers do not see coming (they stop at page boundaries): the row `kAhead`
// rows on is prefetched while this one is copied. Measured on an Ice Lake Xeon (perf): without it the copies of Q
// into Qᵀ and of K/V into their packed tiles took ~14% of the windowed ViT attention's time.
constexpr int64_t kAhead = 4;
inline void prefetch_row(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) __builtin_prefetch(p + i);  // one cache line (16 floats) each
}

struct Scratch {
  std::vector<float> q, s, o, m, l, alpha, kp, vp;
  explicit Scratch(int64_t d)
      : q(static_cast<size_t>(kGroup * kBq * d)), s(static_cast<size_t>(kBq * kBk)),
        o(static_cast<size_t>(kGroup * kBq * d)), m(kGroup * kBq), l(kGroup * kBq), alpha(kGroup * kBq),
        kp(static_cast<size_t>(kBk * d)), vp(static_cast<size_t>(kBk * d)) {}
};

// The state of one sub-tile of kBq queries: Qᵀ [D][kBq] (pre-scaled, zero-padded to nqp columns), O [nqp][D],
// running max m, sum l and the last rescale factor alpha.
struct SubTile {
  int64_t i0, nq, nqp;
  float *qt, *o, *m, *l, *alpha;
};

// The sub-tiles of the work item (head h, queries [i0, i0+nq), nq ≤ kGroup·kBq) in sc, each padded to a multiple of
// `pad` query columns: Qᵀ = q·scale·log2 e (scores in log2 units; bf16-rounded for bf16 products), O = 0, m = -inf,
// l = 0. Returns how many.
inline int64_t init_subtiles(const ops::AttentionArgs& a, int64_t h, int64_t i0, int64_t nq, int64_t pad,
                             Scratch& sc, SubTile* tiles) {
  const int64_t D = a.head_dim;
  const float qscale = a.scale * kLog2e;
  const int64_t n_sub = (nq + kBq - 1) / kBq;
  for (int64_t s = 0; s < n_sub; ++s) {
    SubTile& t = tiles[s];
    t.i0 = i0 + s * kBq;
    t.nq = std::min(kBq, i0 + nq - t.i0);
    t.nqp = (t.nq + pad - 1) / pad * pad;
    t.qt = sc.q.data() + s * kBq * D;
    t.o = sc.o.data() + s * kBq * D;
    t.m = sc.m.data() + s * kBq;
    t.l = sc.l.data() + s * kBq;
    t.alpha = sc.alpha.data() + s * kBq;
    for (int64_t i = 0; i < t.nqp; ++i) {
      if (i < t.nq) {
        const float* src = a.q + (t.i0 + i) * a.q_row + h * a.q_head;
        if (i + kAhead < t.nq) prefetch_row(src + kAhead * a.q_row, D);
        if (a.bf16)
          for (int64_t d = 0; d < D; ++d) t.qt[d * kBq + i] = round_bf16(src[d] * qscale);
        else
          for (int64_t d = 0; d < D; ++d) t.qt[d * kBq + i] = src[d] * qscale;
      } else {
        for (int64_t d = 0; d < D; ++d) t.qt[d * kBq + i] = 0.0f;
      }
      t.m[i] = kNegInf;
      t.l[i] = 0.0f;
    }
    std::fill(t.o, t.o + t.nqp * D, 0.0f);
  }
  return n_sub;
}

// Key padding and the causal mask on the transposed scores Sᵀ[jj, i] (row stride kBq) of keys j0..j0+nk-1.
inline void mask_keys(const ops::AttentionArgs& a, const SubTile& t, int64_t j0, int64_t nk, float* st) {
  if (a.key_pad) {
    for (int64_t jj = 0; jj < nk; ++jj)
      if (a.key_pad[j0 + jj]) std::fill(st + jj * kBq, st + jj * kBq + t.nqp, kNegInf);
  }
  if (a.causal) {  // key j0+jj is hidden from the queries before it: columns i < j0 + jj - t.i0
    for (int64_t jj = 0; jj < nk; ++jj) {
      const int64_t first_seeing = std::clamp<int64_t>(j0 + jj - t.i0, 0, t.nqp);
      std::fill(st + jj * kBq, st + jj * kBq + first_seeing, kNegInf);
    }
  }
}

// out rows of the sub-tile's real queries = O / l (0 for a row that saw only masked keys).
inline void write_out(const ops::AttentionArgs& a, int64_t h, const SubTile& t) {
  const int64_t D = a.head_dim;
  for (int64_t i = 0; i < t.nq; ++i) {
    const float inv = t.l[i] > 0.0f ? 1.0f / t.l[i] : 0.0f;
    float* dst = a.out + (t.i0 + i) * a.o_row + h * a.o_head;
    for (int64_t d = 0; d < D; ++d) dst[d] = t.o[i * D + d] * inv;
  }
}

// work(h, i0, nq, scratch) for every work item: (head, block of up to kGroup sub-tiles), blocks balanced in sub-tile
// count (576 queries = 6 tiles: 3 + 3, not 4 + 2); head-major so that concurrent items share K/V in cache. One
// Scratch per thread.
template <class Work>
void for_each_work_item(const ops::AttentionArgs& a, int n_threads, const Work& work) {
  const int64_t n_tiles = (a.lq + kBq - 1) / kBq;
  const int64_t q_blocks = (n_tiles + kGroup - 1) / kGroup;
  const int64_t items = a.n_heads * q_blocks;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n_threads, items)));
  auto run = [&](int64_t it, Scratch& sc) {
    const int64_t h = it / q_blocks, b = it % q_blocks;
    const int64_t i0 = b * n_tiles / q_blocks * kBq, i1 = std::min(a.lq, (b + 1) * n_tiles / q_blocks * kBq);
    work(h, i0, i1 - i0, sc);
  };
  if (threads <= 1) {
    Scratch sc(a.head_dim);
    for (int64_t it = 0; it < items; ++it) run(it, sc);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    Scratch sc(a.head_dim);
#pragma omp for schedule(dynamic, 1)
    for (int64_t it = 0; it < items; ++it) run(it, sc);
  }
}

}  // namespace sam3::kernels::cpu::flash

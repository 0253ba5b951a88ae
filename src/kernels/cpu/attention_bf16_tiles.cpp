// sam3.cpp — bf16 attention on oneDNN matmul tiles (see kernels/cpu.h), flash style:
//   Kc[h] = bf16(k), Vc[h] = bf16(v) [lkp, D]  (once per call, zero-padded)
//   per work item (head h, query tile of bq rows): Qt = bf16(q·scale·log2 e) [bq, D]; per key tile of bk keys:
//     S[bq, bk] = Qc_tile · Kc_tileᵀ           (oneDNN matmul, f32 sums: AMX tiles where the CPU has them)
//     bias·log2 e, masks; m_new = max(m, max_j S); P = 2^(S − m_new); l = l·2^(m − m_new) + Σ P   (f32)
//     O[bq, D] = O·2^(m − m_new) + bf16(P) · Vc_tile        (oneDNN matmul into PV, then the f32 rescale-add)
//   out = O / l.
// Tiles are balanced (lq = 5184 gives 27 tiles of 192 queries; lk = 576 one tile of 576 keys, 5184 nine), key tiles a
// multiple of 32 keys; padded keys are masked like key_pad. Every tile has one shape per call: two primitives per
// call (oneDNN's primitive cache makes later calls' creations cheap), planned for one thread and run by each thread
// of this kernel's parallel region on its own tiles.
// ref: torch.nn.functional.scaled_dot_product_attention
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/error.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_engine.h"
#include "kernels/cpu/onednn_matmul.h"
#include "kernels/quantize.h"
#include "kernels/simd_math.h"

namespace sam3::kernels::cpu {

namespace {

constexpr int64_t kMaxBq = 192;  // queries per tile
constexpr int64_t kMaxBk = 576;  // keys per tile (a multiple of 32: the softmax pass has no tail)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kLog2e = 1.44269504088896341f;

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// len split into n balanced tiles of b (a multiple of align) each: n·b ≥ len.
struct Tiling {
  int64_t n, b;
};
Tiling balanced(int64_t len, int64_t max_b, int64_t align) {
  const int64_t n = (len + max_b - 1) / max_b;
  return {n, ((len + n - 1) / n + align - 1) / align * align};
}

// The operand types: bf16 bits, or the bf16-rounded value as a float.
inline void store_operand(float x, uint16_t* p) { *p = bf16_bits(x); }
inline void store_operand(float x, float* p) { *p = round_bf16(x); }
template <class T>
constexpr dt operand_type() {
  return sizeof(T) == 2 ? dt::bf16 : dt::f32;
}

// One row of D operands: dst[d] = operand(src[d] · scale), or zeros (src null: a padding row).
template <class T>
void convert_row(const float* src, int64_t D, float scale, T* dst) {
  if (!src) {
    std::memset(dst, 0, static_cast<size_t>(D) * sizeof(T));
    return;
  }
  for (int64_t e = 0; e < D; ++e) store_operand(src[e] * scale, dst + e);
}

// dst[h][i] = the row of (i, h) for i < len, zero rows up to padded; parallel over (head, row).
template <class T>
void convert_heads(const float* src, int64_t row, int64_t head, int64_t heads, int64_t len, int64_t padded, int64_t D,
                   T* dst, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t hi = 0; hi < heads * padded; ++hi) {
    const int64_t h = hi / padded, i = hi % padded;
    convert_row(i < len ? src + i * row + h * head : nullptr, D, 1.0f, dst + hi * D);
  }
}

// One score row of n (a multiple of 32) keys: updates the running max m and sum l, returns alpha = 2^(m_old −
// m_new) (1 while every key so far is masked), and writes the numerators' operands to p (zeros when all masked).
template <class T>
float softmax_row(float* s, int64_t n, float& m, float& l, T* p) {
  const float m_new = std::max(m, simd::max_of(s, n));
  if (m_new == kNegInf) {
    std::memset(p, 0, static_cast<size_t>(n) * sizeof(T));
    return 1.0f;
  }
  const float alpha = simd::exp2_softmax_scalar(m - m_new);  // 0 when m was -inf
  float sum = 0;
  int64_t j = 0;
#ifdef SAM3_AVX2
  const __m256 vm = _mm256_set1_ps(m_new);
  __m256 acc = _mm256_setzero_ps();
  for (; j + 16 <= n; j += 16) {
    const __m256 p0 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), vm));
    const __m256 p1 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j + 8), vm));
    acc = _mm256_add_ps(acc, _mm256_add_ps(p0, p1));
    const __m256 r0 = simd::round_bf16_ps(p0), r1 = simd::round_bf16_ps(p1);
    if constexpr (sizeof(T) == 2) {
      // The high halves of the rounded floats are the bf16 bits; pack 2×8 lanes to 16 in order.
      const __m256i b = _mm256_packus_epi32(_mm256_srli_epi32(_mm256_castps_si256(r0), 16),
                                            _mm256_srli_epi32(_mm256_castps_si256(r1), 16));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + j), _mm256_permute4x64_epi64(b, 0xD8));
    } else {
      _mm256_storeu_ps(p + j, r0);
      _mm256_storeu_ps(p + j + 8, r1);
    }
  }
  sum = simd::hsum_ps(acc);
#endif
  for (; j < n; ++j) {
    const float e = simd::exp2_softmax_scalar(s[j] - m_new);
    sum += e;
    store_operand(e, p + j);
  }
  m = m_new;
  l = l * alpha + sum;
  return alpha;
}

// The call's plan: tile shapes, the converted operands, the masks and the two primitives.
template <class T>
struct TilePlan {
  TilePlan(const ops::AttentionArgs& args, Tiling queries, Tiling keys)
      : a(args), bq(queries.b), bk(keys.b), nqt(queries.n), lkp(keys.n * keys.b) {}
  const ops::AttentionArgs& a;
  int64_t bq, bk, nqt, lkp;  // query tile rows, key tile keys, query tiles, padded key count
  std::vector<T> kc, vc;         // [H][lkp][D] each
  std::vector<uint8_t> hidden;       // [lkp]: padded or key_pad-masked keys
  std::vector<uint8_t> tile_hidden;  // per key tile: does it hold any hidden key?
  dnnl::memory::desc q_desc, kt_desc, s_desc, p_desc, v_desc, pv_desc;
  dnnl::matmul::primitive_desc qk_pd, pv_pd;
  dnnl::matmul qk, pv;
};

// One thread's tiles and oneDNN memory handles (the handles re-pointed per tile).
template <class T>
struct TileWorker {
  const TilePlan<T>& plan;
  std::vector<float> s, pvt, o, m, l, alpha;  // S [bq, bk], PV and O [bq, D], per-row statistics
  std::vector<T> qt, p;                       // the query tile [bq, D] and bf16(P) [bq, bk]
  dnnl::stream stream;
  dnnl::memory q_mem, k_mem, s_mem, p_mem, v_mem, pv_mem, scratch_mem;

  explicit TileWorker(const TilePlan<T>& pl)
      : plan(pl), s(static_cast<size_t>(pl.bq * pl.bk)), pvt(static_cast<size_t>(pl.bq * pl.a.head_dim)),
        o(pvt.size()), m(static_cast<size_t>(pl.bq)), l(m.size()), alpha(m.size()), qt(o.size()), p(s.size()),
        stream(onednn_engine()), q_mem(pl.q_desc, onednn_engine(), qt.data()),
        k_mem(pl.kt_desc, onednn_engine(), DNNL_MEMORY_NONE), s_mem(pl.s_desc, onednn_engine(), s.data()),
        p_mem(pl.p_desc, onednn_engine(), p.data()), v_mem(pl.v_desc, onednn_engine(), DNNL_MEMORY_NONE),
        pv_mem(pl.pv_desc, onednn_engine(), pvt.data()) {
    // One scratchpad for both products (this thread runs them one after the other), sized for the larger.
    const dnnl::memory::desc qk_pad = pl.qk_pd.scratchpad_desc(), pv_pad = pl.pv_pd.scratchpad_desc();
    scratch_mem = dnnl::memory(qk_pad.get_size() >= pv_pad.get_size() ? qk_pad : pv_pad, onednn_engine());
  }

  // Work item: head h, query tile starting at i0.
  void run(int64_t h, int64_t i0) {
    const ops::AttentionArgs& a = plan.a;
    const int64_t D = a.head_dim, bq = plan.bq, bk = plan.bk, lk = a.lk;
    const int64_t nq = std::min(bq, a.lq - i0);  // real queries in the tile
    std::fill(m.begin(), m.end(), kNegInf);
    std::fill(l.begin(), l.end(), 0.0f);
    std::fill(o.begin(), o.end(), 0.0f);
    for (int64_t i = 0; i < bq; ++i)
      convert_row(i < nq ? a.q + (i0 + i) * a.q_row + h * a.q_head : nullptr, D, a.scale * kLog2e, qt.data() + i * D);
    for (int64_t j0 = 0; j0 < plan.lkp; j0 += bk) {
      if (a.causal && j0 > i0 + nq - 1) break;  // keys after the tile's last query are hidden from all of it
      k_mem.set_data_handle(const_cast<T*>(plan.kc.data() + (h * plan.lkp + j0) * D));
      plan.qk.execute(stream, {{DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, k_mem}, {DNNL_ARG_DST, s_mem},
                               {DNNL_ARG_SCRATCHPAD, scratch_mem}});
      stream.wait();
      for (int64_t i = 0; i < bq; ++i) {
        float* sr = s.data() + i * bk;
        if (a.bias && i < nq) {
          const float* b = a.bias + h * a.bias_head + (i0 + i) * lk + j0;
          for (int64_t j = 0; j < std::min(bk, lk - j0); ++j) sr[j] += b[j] * kLog2e;
        }
        if (plan.tile_hidden[static_cast<size_t>(j0 / bk)])
          for (int64_t j = 0; j < bk; ++j)
            if (plan.hidden[static_cast<size_t>(j0 + j)]) sr[j] = kNegInf;
        if (a.causal && j0 + bk > i0 + i + 1)  // keys after query i0 + i
          std::fill(sr + std::max<int64_t>(0, i0 + i + 1 - j0), sr + bk, kNegInf);
        const size_t r = static_cast<size_t>(i);
        alpha[r] = softmax_row(sr, bk, m[r], l[r], p.data() + i * bk);
      }
      v_mem.set_data_handle(const_cast<T*>(plan.vc.data() + (h * plan.lkp + j0) * D));
      plan.pv.execute(stream, {{DNNL_ARG_SRC, p_mem}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, pv_mem},
                               {DNNL_ARG_SCRATCHPAD, scratch_mem}});
      stream.wait();
      for (int64_t i = 0; i < bq; ++i) {
        const float al = alpha[static_cast<size_t>(i)];
        float* orow = o.data() + i * D;
        const float* prow = pvt.data() + i * D;
        for (int64_t d = 0; d < D; ++d) orow[d] = orow[d] * al + prow[d];
      }
    }
    for (int64_t i = 0; i < nq; ++i) {
      const float li = l[static_cast<size_t>(i)];
      const float inv = li > 0.0f ? 1.0f / li : 0.0f;
      float* dst = a.out + (i0 + i) * a.o_row + h * a.o_head;
      for (int64_t d = 0; d < D; ++d) dst[d] = o[static_cast<size_t>(i * D + d)] * inv;
    }
  }
};

// The calling thread's OpenMP thread count set to 1 for a scope: oneDNN plans a primitive for the threads it sees
// when it is created, and each tile runs inside this kernel's parallel region on one thread.
class OneOmpThread {
 public:
  OneOmpThread() : prev_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneOmpThread() { omp_set_num_threads(prev_); }
  OneOmpThread(const OneOmpThread&) = delete;
  OneOmpThread& operator=(const OneOmpThread&) = delete;

 private:
  int prev_;
};

// A tile product; each thread of the kernel runs it on its own tiles with its own scratchpad (onednn_engine.h).
dnnl::matmul::primitive_desc tile_product(const dnnl::memory::desc& src, const dnnl::memory::desc& wei,
                                          const dnnl::memory::desc& dst) {
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), onednn_attr(), onednn_engine());
}

template <class T>
void run_tiles(const ops::AttentionArgs& a, int n_threads) {
  const int64_t H = a.n_heads, D = a.head_dim, lq = a.lq, lk = a.lk;
  const Tiling qt = balanced(lq, kMaxBq, 16), kt = balanced(lk, kMaxBk, 32);
  TilePlan<T> plan(a, qt, kt);
  plan.kc.resize(static_cast<size_t>(H * plan.lkp * D));
  plan.vc.resize(plan.kc.size());
  convert_heads(a.k, a.k_row, a.k_head, H, lk, plan.lkp, D, plan.kc.data(), n_threads);
  convert_heads(a.v, a.v_row, a.v_head, H, lk, plan.lkp, D, plan.vc.data(), n_threads);
  plan.hidden.assign(static_cast<size_t>(plan.lkp), 1);
  for (int64_t j = 0; j < lk; ++j) plan.hidden[static_cast<size_t>(j)] = a.key_pad && a.key_pad[j] ? 1 : 0;
  plan.tile_hidden.assign(static_cast<size_t>(kt.n), 0);
  for (int64_t j = 0; j < plan.lkp; ++j)
    if (plan.hidden[static_cast<size_t>(j)]) plan.tile_hidden[static_cast<size_t>(j / plan.bk)] = 1;
  const dt ot = operand_type<T>();
  const int64_t bq = plan.bq, bk = plan.bk;
  plan.q_desc = dnnl::memory::desc({bq, D}, ot, tag::ab);
  plan.kt_desc = dnnl::memory::desc({D, bk}, ot, dnnl::memory::dims{1, D});  // Kᵀ of the row-major K tile
  plan.s_desc = dnnl::memory::desc({bq, bk}, dt::f32, tag::ab);
  plan.p_desc = dnnl::memory::desc({bq, bk}, ot, tag::ab);
  plan.v_desc = dnnl::memory::desc({bk, D}, ot, tag::ab);
  plan.pv_desc = dnnl::memory::desc({bq, D}, dt::f32, tag::ab);
  {
    OneOmpThread one;
    plan.qk_pd = tile_product(plan.q_desc, plan.kt_desc, plan.s_desc);
    plan.pv_pd = tile_product(plan.p_desc, plan.v_desc, plan.pv_desc);
    plan.qk = dnnl::matmul(plan.qk_pd);
    plan.pv = dnnl::matmul(plan.pv_pd);
  }
  const int64_t items = H * plan.nqt;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n_threads, items)));
  std::atomic<bool> failed{false};  // an exception must not leave the parallel region: recorded, rethrown after
#pragma omp parallel num_threads(threads)
  {
    omp_set_num_threads(1);  // this implicit task's nested regions (oneDNN's inside a tile): one thread
    std::unique_ptr<TileWorker<T>> w;
    try {
      w = std::make_unique<TileWorker<T>>(plan);
    } catch (...) {
      failed = true;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t it = 0; it < items; ++it) {
      if (failed.load(std::memory_order_relaxed)) continue;
      try {
        w->run(it / plan.nqt, (it % plan.nqt) * plan.bq);
      } catch (...) {
        failed = true;
      }
    }
  }
  if (failed) throw Error("attention: a oneDNN tile product failed (out of memory?)");
}

}  // namespace

bool attention_bf16_tiles_available() {
  return onednn_supports(OnednnMatmul::Kind::BF16);
}

void attention_bf16_tiles(const ops::AttentionArgs& a, int n_threads, AttentionTileStorage storage) {
  if (a.lq == 0) return;
  if (a.lk == 0) {  // no keys: every output row is zero, as in the other kernels
    for (int64_t i = 0; i < a.lq; ++i)
      for (int64_t h = 0; h < a.n_heads; ++h)
        std::memset(a.out + i * a.o_row + h * a.o_head, 0, static_cast<size_t>(a.head_dim) * sizeof(float));
    return;
  }
  if (storage == AttentionTileStorage::BF16)
    run_tiles<uint16_t>(a, n_threads);
  else
    run_tiles<float>(a, n_threads);
}

}  // namespace sam3::kernels::cpu

// sam3.cpp — fused multi-head attention, flash style: for each (head, tile of kBq queries) the keys are visited
// in tiles of kBk and the softmax is computed online (running max m and sum l per query; O rescaled by
// e^(m_old - m_new) when the max grows). Nothing of size Lq×Lk exists: each thread holds one score tile plus its
// Q and O tiles (< 100 KB for head_dim 64), allocated once per call. Parallel over (head, query tile).
//
// Two implementations of a work item:
// - AVX2 micro-kernels (head_dim a multiple of 16, the case for every SAM 3 attention): the query tile is packed
//   transposed once (Qᵀ[D, kBq]); scores are computed transposed, Sᵀ[key, query] = K·Qᵀ, by a 6-key × 16-query
//   register tile reading K in place, so the softmax statistics are vertical (per-lane) SIMD ops; O += P·V by a
//   6-query × 16-dim register tile reading V rows in place, with the e^(m_old - m_new) rescaling of O folded into
//   its accumulator initialisation.
// - otherwise, single-threaded sgemm calls on the tiles (S = Q·Kᵀ, O += P·V) with the same online softmax.
// bf16 products (a.bf16, ops.h): both round q·scale·log2 e, the K and V tiles and the numerators P to bf16 as they
// pack or write them, and keep the statistics in f32; where the CPU has bf16 instructions the oneDNN tiles run instead
// (attention_bf16_tiles.cpp).
// ref: torch.nn.functional.scaled_dot_product_attention
#include <algorithm>
#include <cmath>

#include "kernels/cpu.h"
#include "kernels/cpu/attention_flash.h"
#include "kernels/quantize.h"
#include "kernels/simd_math.h"

namespace sam3::kernels::cpu {

namespace {

using namespace flash;  // NOLINT(google-build-using-namespace): the tiling and state both kernels share

// s[j] = exp(s[j] - m); returns Σ s[j].
inline float exp_sum(float* s, int64_t n, float m) {
  int64_t j = 0;
  float sum = 0;
#ifdef SAM3_AVX2
  const __m256 vm = _mm256_set1_ps(m);
  __m256 a = _mm256_setzero_ps(), b = a;
  for (; j + 16 <= n; j += 16) {
    const __m256 p0 = simd::exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), vm));
    const __m256 p1 = simd::exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j + 8), vm));
    _mm256_storeu_ps(s + j, p0);
    _mm256_storeu_ps(s + j + 8, p1);
    a = _mm256_add_ps(a, p0);
    b = _mm256_add_ps(b, p1);
  }
  for (; j + 8 <= n; j += 8) {
    const __m256 p0 = simd::exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), vm));
    _mm256_storeu_ps(s + j, p0);
    a = _mm256_add_ps(a, p0);
  }
  sum = simd::hsum_ps(_mm256_add_ps(a, b));
#endif
  for (; j < n; ++j) {
    s[j] = simd::exp_scalar(s[j] - m);
    sum += s[j];
  }
  return sum;
}

inline void scale_row(float* o, int64_t n, float f) {
  for (int64_t d = 0; d < n; ++d) o[d] *= f;
}

// bf16 products, scores in log2 units: s[j] = bf16(2^(s[j] - m)); returns the sum of the unrounded values.
inline float exp2_sum_round_bf16(float* s, int64_t n, float m) {
  float sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    const float p = simd::exp2_softmax_scalar(s[j] - m);
    sum += p;
    s[j] = round_bf16(p);
  }
  return sum;
}

// Generic path (any head_dim; no AVX2 needed): one work item, head h, queries [i0, i0+nq), on sgemm tiles.
void attend_tile_sgemm(const ops::AttentionArgs& a, int64_t h, int64_t i0, int64_t nq, Scratch& sc) {
  const int64_t D = a.head_dim;
  const bool b16 = a.bf16;  // scores in log2 units, operands rounded (ops.h)
  const float qscale = b16 ? a.scale * kLog2e : a.scale, bias_scale = b16 ? kLog2e : 1.0f;
  float* qt = sc.q.data();
  float* st = sc.s.data();
  float* ot = sc.o.data();
  for (int64_t i = 0; i < nq; ++i) {
    const float* src = a.q + (i0 + i) * a.q_row + h * a.q_head;
    for (int64_t d = 0; d < D; ++d) qt[i * D + d] = b16 ? round_bf16(src[d] * qscale) : src[d] * qscale;
    sc.m[static_cast<size_t>(i)] = kNegInf;
    sc.l[static_cast<size_t>(i)] = 0.0f;
  }
  std::fill(ot, ot + nq * D, 0.0f);
  const float* kh = a.k + h * a.k_head;
  const float* vh = a.v + h * a.v_head;
  const int64_t lk = a.causal ? std::min(a.lk, i0 + nq) : a.lk;  // later keys are hidden from the whole tile
  for (int64_t j0 = 0; j0 < lk; j0 += kBk) {
    const int64_t nk = std::min(kBk, lk - j0);
    // The K and V tiles as the products see them: in place, or rounded copies [nk, D].
    const float* kt = kh + j0 * a.k_row;
    const float* vt = vh + j0 * a.v_row;
    int64_t k_ld = a.k_row, v_ld = a.v_row;
    if (b16) {
      for (int64_t j = 0; j < nk; ++j)
        for (int64_t d = 0; d < D; ++d) {
          sc.kp[static_cast<size_t>(j * D + d)] = round_bf16(kt[j * a.k_row + d]);
          sc.vp[static_cast<size_t>(j * D + d)] = round_bf16(vt[j * a.v_row + d]);
        }
      kt = sc.kp.data();
      vt = sc.vp.data();
      k_ld = v_ld = D;
    }
    // S[nq, nk] = Qs · K[j0:j0+nk]ᵀ
    sgemm(false, true, nq, nk, D, qt, D, kt, k_ld, st, kBk, false, 1);
    bool any = false;  // does any query in the tile have a finite score in this key tile?
    for (int64_t i = 0; i < nq; ++i) {
      float* s = st + i * kBk;
      if (a.bias) {
        const float* b = a.bias + h * a.bias_head + (i0 + i) * a.lk + j0;
        for (int64_t j = 0; j < nk; ++j) s[j] += b[j] * bias_scale;
      }
      if (a.key_pad) {
        for (int64_t j = 0; j < nk; ++j)
          if (a.key_pad[j0 + j]) s[j] = kNegInf;
      }
      if (a.causal)
        for (int64_t j = std::max<int64_t>(0, i0 + i + 1 - j0); j < nk; ++j) s[j] = kNegInf;
      float& m = sc.m[static_cast<size_t>(i)];
      float& l = sc.l[static_cast<size_t>(i)];
      const float m_new = std::max(m, simd::max_of(s, nk));
      if (m_new == kNegInf) {  // every key so far masked: this tile contributes nothing to the row
        std::fill(s, s + nk, 0.0f);
        continue;
      }
      any = true;
      if (m_new > m) {
        // 0 when m was -inf
        const float alpha = b16 ? simd::exp2_softmax_scalar(m - m_new) : simd::exp_scalar(m - m_new);
        l *= alpha;
        scale_row(ot + i * D, D, alpha);
        m = m_new;
      }
      l += b16 ? exp2_sum_round_bf16(s, nk, m) : exp_sum(s, nk, m);
    }
    // O[nq, D] += P[nq, nk] · V[j0:j0+nk]
    if (any) sgemm(false, false, nq, D, nk, st, kBk, vt, v_ld, ot, D, true, 1);
  }
  for (int64_t i = 0; i < nq; ++i) {
    const float l = sc.l[static_cast<size_t>(i)];
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    float* dst = a.out + (i0 + i) * a.o_row + h * a.o_head;
    for (int64_t d = 0; d < D; ++d) dst[d] = ot[i * D + d] * inv;
  }
}

#ifdef SAM3_AVX2

// Sᵀ[j, 0:16] = Σ_d K[j, d] · Qᵀ[d, 0:16] for R ≤ 6 keys j (rows k + j·k_row); st row stride ld.
template <int R>
inline void qk_kernel(const float* k, int64_t k_row, const float* qt, int64_t ldq, int64_t D, float* st, int64_t ld) {
  __m256 c0[R], c1[R];
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
  for (int64_t d = 0; d < D; ++d) {
    const __m256 q0 = _mm256_loadu_ps(qt + d * ldq), q1 = _mm256_loadu_ps(qt + d * ldq + 8);
    _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
      const __m256 kv = _mm256_broadcast_ss(k + r * k_row + d);
      c0[r] = _mm256_fmadd_ps(kv, q0, c0[r]);
      c1[r] = _mm256_fmadd_ps(kv, q1, c1[r]);
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(st + r * ld, c0[r]);
    _mm256_storeu_ps(st + r * ld + 8, c1[r]);
  }
}

// O[r, 0:16] = O[r, 0:16]·alpha[r] + Σ_j Pᵀ[j, r] · V[j, 0:16] for R ≤ 6 queries r; o row stride ldo.
template <int R>
inline void pv_kernel(const float* pt, int64_t ldp, const float* v, int64_t v_row, int64_t nk, const float* alpha,
                      float* o, int64_t ldo) {
  __m256 c0[R], c1[R];
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
    const __m256 al = _mm256_broadcast_ss(alpha + r);
    c0[r] = _mm256_mul_ps(_mm256_loadu_ps(o + r * ldo), al);
    c1[r] = _mm256_mul_ps(_mm256_loadu_ps(o + r * ldo + 8), al);
  }
  for (int64_t j = 0; j < nk; ++j) {
    const __m256 v0 = _mm256_loadu_ps(v + j * v_row), v1 = _mm256_loadu_ps(v + j * v_row + 8);
    _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
      const __m256 p = _mm256_broadcast_ss(pt + j * ldp + r);
      c0[r] = _mm256_fmadd_ps(p, v0, c0[r]);
      c1[r] = _mm256_fmadd_ps(p, v1, c1[r]);
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(o + r * ldo, c0[r]);
    _mm256_storeu_ps(o + r * ldo + 8, c1[r]);
  }
}

template <int R>
inline void qk_rows(const float* k, int64_t k_row, const float* qt, int64_t nqp, int64_t D, float* st) {
  for (int64_t b = 0; b < nqp; b += 16) qk_kernel<R>(k, k_row, qt + b, kBq, D, st + b, kBq);
}

// vp: the V tile packed as [D/16][nk][16].
template <int R>
inline void pv_cols(const float* pt, const float* vp, int64_t nk, const float* alpha, float* o, int64_t D) {
  for (int64_t d0 = 0; d0 < D; d0 += 16) pv_kernel<R>(pt, kBq, vp + d0 * nk, 16, nk, alpha, o + d0, D);
}

// Sᵀ[jj, i] += bias[i·lk + jj] for i < nq, jj < nk (b points at query 0, key j0), 8×8 blocks transposed in
// registers so both the bias rows and the Sᵀ rows are read contiguously.
// Scores in this path are in log2 units (log2(e) folded into Q's scale), so the bias is scaled by log2(e) too.
inline void add_bias_transposed(const float* b, int64_t lk, int64_t nq, int64_t nk, float* st) {
  const __m256 l2e = _mm256_set1_ps(kLog2e);
  int64_t i = 0;
  for (; i + 8 <= nq; i += 8) {
    int64_t jj = 0;
    for (; jj + 8 <= nk; jj += 8) {
      __m256 r[8];
      for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(b + (i + k) * lk + jj);
      const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
      const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
      const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
      const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
      const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      const __m256 c[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                           _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                           _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                           _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
      for (int k = 0; k < 8; ++k) {
        float* dst = st + (jj + k) * kBq + i;
        _mm256_storeu_ps(dst, _mm256_fmadd_ps(c[k], l2e, _mm256_loadu_ps(dst)));
      }
    }
    for (; jj < nk; ++jj)
      for (int64_t k = 0; k < 8; ++k) st[jj * kBq + i + k] += b[(i + k) * lk + jj] * kLog2e;
  }
  for (; i < nq; ++i)
    for (int64_t jj = 0; jj < nk; ++jj) st[jj * kBq + i] += b[i * lk + jj] * kLog2e;
}

// One key tile (keys j0.., packed in kp / vp) for one sub-tile: scores, bias/padding, online softmax, O update.
void key_tile_step(const ops::AttentionArgs& a, int64_t h, const SubTile& t, int64_t j0, int64_t nk,
                   const float* kp, const float* vp, float* st) {
  const int64_t D = a.head_dim, nqp = t.nqp;
  // Sᵀ[nk, nqp] = K[j0:j0+nk] · Qᵀ
  int64_t j = 0;
  for (; j + 6 <= nk; j += 6) qk_rows<6>(kp + j * D, D, t.qt, nqp, D, st + j * kBq);
  switch (nk - j) {
    case 5: qk_rows<5>(kp + j * D, D, t.qt, nqp, D, st + j * kBq); break;
    case 4: qk_rows<4>(kp + j * D, D, t.qt, nqp, D, st + j * kBq); break;
    case 3: qk_rows<3>(kp + j * D, D, t.qt, nqp, D, st + j * kBq); break;
    case 2: qk_rows<2>(kp + j * D, D, t.qt, nqp, D, st + j * kBq); break;
    case 1: qk_rows<1>(kp + j * D, D, t.qt, nqp, D, st + j * kBq); break;
    default: break;
  }
  if (a.bias) add_bias_transposed(a.bias + h * a.bias_head + t.i0 * a.lk + j0, a.lk, t.nq, nk, st);
  flash::mask_keys(a, t, j0, nk, st);
  // Online softmax in log2 units, 8 queries per lane group: m_new = max(m, max_j Sᵀ[j, ·]);
  // P = 2^(Sᵀ - m_new); l = l·2^(m - m_new) + Σ_j P. While a query has seen only masked keys m_new = -inf;
  // exponents then use 0 instead, so P = 0 and alpha = 0 rather than NaN.
  const __m256 neg_inf = _mm256_set1_ps(kNegInf);
  for (int64_t i = 0; i < nqp; i += 8) {
    __m256 mx0 = neg_inf, mx1 = neg_inf;
    int64_t jj = 0;
    for (; jj + 2 <= nk; jj += 2) {
      mx0 = _mm256_max_ps(mx0, _mm256_loadu_ps(st + jj * kBq + i));
      mx1 = _mm256_max_ps(mx1, _mm256_loadu_ps(st + (jj + 1) * kBq + i));
    }
    if (jj < nk) mx0 = _mm256_max_ps(mx0, _mm256_loadu_ps(st + jj * kBq + i));
    const __m256 m_old = _mm256_loadu_ps(t.m + i);
    const __m256 m_new = _mm256_max_ps(m_old, _mm256_max_ps(mx0, mx1));
    const __m256 m_use = _mm256_andnot_ps(_mm256_cmp_ps(m_new, neg_inf, _CMP_EQ_OQ), m_new);
    const __m256 al = simd::exp2_softmax_ps(_mm256_sub_ps(m_old, m_use));
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    jj = 0;
    if (a.bf16) {  // P·V sees bf16(P); l sums the unrounded P
      for (; jj + 2 <= nk; jj += 2) {
        const __m256 p0 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(st + jj * kBq + i), m_use));
        const __m256 p1 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(st + (jj + 1) * kBq + i), m_use));
        _mm256_storeu_ps(st + jj * kBq + i, simd::round_bf16_ps(p0));
        _mm256_storeu_ps(st + (jj + 1) * kBq + i, simd::round_bf16_ps(p1));
        s0 = _mm256_add_ps(s0, p0);
        s1 = _mm256_add_ps(s1, p1);
      }
      if (jj < nk) {
        const __m256 p0 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(st + jj * kBq + i), m_use));
        _mm256_storeu_ps(st + jj * kBq + i, simd::round_bf16_ps(p0));
        s0 = _mm256_add_ps(s0, p0);
        ++jj;
      }
    }
    for (; jj + 2 <= nk; jj += 2) {
      const __m256 p0 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(st + jj * kBq + i), m_use));
      const __m256 p1 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(st + (jj + 1) * kBq + i), m_use));
      _mm256_storeu_ps(st + jj * kBq + i, p0);
      _mm256_storeu_ps(st + (jj + 1) * kBq + i, p1);
      s0 = _mm256_add_ps(s0, p0);
      s1 = _mm256_add_ps(s1, p1);
    }
    if (jj < nk) {
      const __m256 p0 = simd::exp2_softmax_ps(_mm256_sub_ps(_mm256_loadu_ps(st + jj * kBq + i), m_use));
      _mm256_storeu_ps(st + jj * kBq + i, p0);
      s0 = _mm256_add_ps(s0, p0);
    }
    _mm256_storeu_ps(t.m + i, m_new);
    _mm256_storeu_ps(t.alpha + i, al);
    _mm256_storeu_ps(t.l + i, _mm256_fmadd_ps(_mm256_loadu_ps(t.l + i), al, _mm256_add_ps(s0, s1)));
  }
  // O[nqp, D] = O·alpha + P · V[j0:j0+nk]   (P read from Sᵀ)
  int64_t i = 0;
  for (; i + 6 <= nqp; i += 6) pv_cols<6>(st + i, vp, nk, t.alpha + i, t.o + i * D, D);
  switch (nqp - i) {
    case 4: pv_cols<4>(st + i, vp, nk, t.alpha + i, t.o + i * D, D); break;
    case 2: pv_cols<2>(st + i, vp, nk, t.alpha + i, t.o + i * D, D); break;
    default: break;  // nqp is a multiple of 16: remainders mod 6 are 0, 2 or 4
  }
}

// The K tile as kp [nk][D] and the V tile as vp [D/16][nk][16] (rows k_row / v_row apart in k / v), each value
// rounded to bf16 when Round.
template <bool Round>
void pack_kv(const float* k, int64_t k_row, const float* v, int64_t v_row, int64_t nk, int64_t D, float* kp,
             float* vp) {
  auto ld = [](const float* p) { return Round ? simd::round_bf16_ps(_mm256_loadu_ps(p)) : _mm256_loadu_ps(p); };
  for (int64_t j = 0; j < nk; ++j) {
    const float* ks = k + j * k_row;
    const float* vs = v + j * v_row;
    if (j + kAhead < nk) {
      prefetch_row(ks + kAhead * k_row, D);
      prefetch_row(vs + kAhead * v_row, D);
    }
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
      _mm256_storeu_ps(kp + j * D + d0, ld(ks + d0));
      _mm256_storeu_ps(kp + j * D + d0 + 8, ld(ks + d0 + 8));
      _mm256_storeu_ps(vp + d0 * nk + j * 16, ld(vs + d0));
      _mm256_storeu_ps(vp + d0 * nk + j * 16 + 8, ld(vs + d0 + 8));
    }
  }
}

// AVX2 path, head_dim % 16 == 0: one work item, head h, queries [i0, i0+nq), nq ≤ kGroup·kBq, as up to kGroup
// sub-tiles that share each packed K/V tile (packing reads K and V from L3/DRAM; sharing it cuts that traffic
// kGroup-fold). Query columns nq..nqp-1 of a sub-tile are zero padding (scores 0, finite; never written out).
void attend_block_avx2(const ops::AttentionArgs& a, int64_t h, int64_t i0, int64_t nq, Scratch& sc) {
  const int64_t D = a.head_dim;
  SubTile tiles[kGroup];
  const int64_t n_sub = flash::init_subtiles(a, h, i0, nq, 16, sc, tiles);  // Qᵀ scaled to log2 units
  const float* kh = a.k + h * a.k_head;
  const float* vh = a.v + h * a.v_head;
  float* kp = sc.kp.data();  // K tile [kBk, D]
  float* vp = sc.vp.data();  // V tile [D/16, kBk, 16]
  // Causal: key tiles after the block's last query are hidden from all of it.
  const int64_t lk = a.causal ? std::min(a.lk, i0 + nq) : a.lk;
  for (int64_t j0 = 0; j0 < lk; j0 += kBk) {
    const int64_t nk = std::min(kBk, lk - j0);
    // Pack the K tile as [nk][D] and the V tile as [D/16][nk][16]: contiguous streams for the micro-kernels,
    // whatever the row strides (a packed qkv has rows 12 KB apart: one page per key otherwise).
    if (a.bf16)  // the products see bf16(K), bf16(V)
      pack_kv<true>(kh + j0 * a.k_row, a.k_row, vh + j0 * a.v_row, a.v_row, nk, D, kp, vp);
    else
      pack_kv<false>(kh + j0 * a.k_row, a.k_row, vh + j0 * a.v_row, a.v_row, nk, D, kp, vp);
    for (int64_t s = 0; s < n_sub; ++s) key_tile_step(a, h, tiles[s], j0, nk, kp, vp, sc.s.data());
  }
  for (int64_t s = 0; s < n_sub; ++s) flash::write_out(a, h, tiles[s]);
}

#endif  // SAM3_AVX2

}  // namespace

void attention(const ops::AttentionArgs& a, int n_threads) {
  if (a.bf16 && attention_bf16_tiles_available()) return attention_bf16_tiles(a, n_threads, AttentionTileStorage::BF16);
  if (a.head_dim % 16 == 0 && attention_avx512_available()) return attention_avx512(a, n_threads);
  attention_avx2(a, n_threads);
}

void attention_avx2(const ops::AttentionArgs& a, int n_threads) {
  flash::for_each_work_item(a, n_threads, [&](int64_t h, int64_t i0, int64_t nq, Scratch& sc) {
#ifdef SAM3_AVX2
    if (a.head_dim % 16 == 0) return attend_block_avx2(a, h, i0, nq, sc);
#endif
    for (int64_t s = i0; s < i0 + nq; s += kBq) attend_tile_sgemm(a, h, s, std::min(kBq, i0 + nq - s), sc);
  });
}

}  // namespace sam3::kernels::cpu

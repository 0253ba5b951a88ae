// sam3.cpp — the AVX-512 twin of attention.cpp's AVX2 kernels (head_dim a multiple of 16): the same work items,
// tiles (kBq queries × kBk keys, kGroup query tiles sharing each packed K/V tile), roundings and order of every sum,
// with 16 lanes instead of 8 and twice the register tiles:
//   Sᵀ[key, query] = K·Qᵀ by an R-key × 32-query register tile (R ≤ 8: 16 accumulators), Qᵀ packed once;
//   the online softmax per 16 queries (vertical SIMD over keys, log2 units, even/odd keys summed apart);
//   O = O·alpha + P·V by an R-query × 16W-dim tile (W = 2 zmm columns when head_dim % 32 == 0, R ≤ 6; else W = 1,
//   R ≤ 12), V packed as [D/16W][nk][16W].
// Each output is the same float as the AVX2 kernel's (each lane accumulates the same terms in the same order):
// tests/unit/test_kernel_attention.cpp compares the two bit for bit. Compiled for AVX-512 whatever the build's
// -march (function target attributes), run only where attention_avx512_available() says so.
// ref: torch.nn.functional.scaled_dot_product_attention

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized reports at every inlined
// use (GCC bug 105593, fixed in GCC 13): a false positive, silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "kernels/cpu.h"
#include "kernels/cpu/attention_flash.h"
#include "kernels/cpu/onednn_matmul.h"
#include "kernels/quantize.h"
#include "kernels/simd_math.h"

#if defined(__x86_64__)

namespace sam3::kernels::cpu {

namespace {

using namespace flash;  // NOLINT(google-build-using-namespace): the tiling and state both kernels share

// Sᵀ[j, 0:32] = Σ_d K[j, d] · Qᵀ[d, 0:32] for R ≤ 8 keys j (rows of kp, D apart); st row stride kBq.
template <int R>
SAM3_AVX512 inline void qk_kernel(const float* k, const float* qt, int64_t D, float* st) {
  __m512 c0[R], c1[R];
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int64_t d = 0; d < D; ++d) {
    const __m512 q0 = _mm512_loadu_ps(qt + d * kBq), q1 = _mm512_loadu_ps(qt + d * kBq + 16);
    _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
      const __m512 kv = _mm512_set1_ps(k[r * D + d]);
      c0[r] = _mm512_fmadd_ps(kv, q0, c0[r]);
      c1[r] = _mm512_fmadd_ps(kv, q1, c1[r]);
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(st + r * kBq, c0[r]);
    _mm512_storeu_ps(st + r * kBq + 16, c1[r]);
  }
}

template <int R>
SAM3_AVX512 inline void qk_rows(const float* k, const float* qt, int64_t nqp, int64_t D, float* st) {
  for (int64_t b = 0; b < nqp; b += 32) qk_kernel<R>(k, qt + b, D, st + b);
}

// O[r, 0:16W] = O[r, 0:16W]·alpha[r] + Σ_j Pᵀ[j, r] · V[j, 0:16W] for R queries r; P read from Sᵀ (row stride kBq),
// V from its packed column block (rows 16W apart), O rows D apart.
template <int R, int W>
SAM3_AVX512 inline void pv_kernel(const float* pt, const float* v, int64_t nk, const float* alpha, float* o,
                                  int64_t D) {
  __m512 c[R][W];
  _Pragma("GCC unroll 12") for (int r = 0; r < R; ++r) {
    const __m512 al = _mm512_set1_ps(alpha[r]);
    _Pragma("GCC unroll 2") for (int w = 0; w < W; ++w) {
      c[r][w] = _mm512_mul_ps(_mm512_loadu_ps(o + r * D + 16 * w), al);
    }
  }
  for (int64_t j = 0; j < nk; ++j) {
    __m512 vv[W];
    _Pragma("GCC unroll 2") for (int w = 0; w < W; ++w) vv[w] = _mm512_loadu_ps(v + j * 16 * W + 16 * w);
    _Pragma("GCC unroll 12") for (int r = 0; r < R; ++r) {
      const __m512 p = _mm512_set1_ps(pt[j * kBq + r]);
      _Pragma("GCC unroll 2") for (int w = 0; w < W; ++w) c[r][w] = _mm512_fmadd_ps(p, vv[w], c[r][w]);
    }
  }
  _Pragma("GCC unroll 12") for (int r = 0; r < R; ++r)
    _Pragma("GCC unroll 2") for (int w = 0; w < W; ++w) _mm512_storeu_ps(o + r * D + 16 * w, c[r][w]);
}

// R queries from query column i over every column block of the packed V.
template <int R, int W>
SAM3_AVX512 inline void pv_cols(const float* st, const float* vp, int64_t nk, const float* alpha, float* o,
                                int64_t D) {
  for (int64_t d0 = 0; d0 < D; d0 += 16 * W) pv_kernel<R, W>(st, vp + d0 * nk, nk, alpha, o + d0, D);
}

// O for the nqp (a multiple of 32) query columns: register tiles of R queries, then the remainder.
template <int W>
SAM3_AVX512 void pv_all(const float* st, const float* vp, int64_t nk, const float* alpha, float* o, int64_t nqp,
                        int64_t D) {
  constexpr int R = 12;
  int64_t i = 0;
  for (; i + R <= nqp; i += R) pv_cols<R, W>(st + i, vp, nk, alpha + i, o + i * D, D);
  const int64_t rest = nqp - i;  // 0, 4 or 8 (nqp mod 12)
  if (rest == 4) pv_cols<4, W>(st + i, vp, nk, alpha + i, o + i * D, D);
  if (rest == 8) pv_cols<8, W>(st + i, vp, nk, alpha + i, o + i * D, D);
}

// Sᵀ[jj, i] += bias[i·lk + jj]·log2 e for i < nq, jj < nk (b points at query 0, key j0; scores in log2 units):
// 16 queries' bias values per gather (bias rows lk apart), one fused multiply-add each, as the AVX2 kernel.
SAM3_AVX512 void add_bias_transposed(const float* b, int64_t lk, int64_t nq, int64_t nk, float* st) {
  const __m512 l2e = _mm512_set1_ps(kLog2e);
  int64_t i = 0;
  if (16 * lk <= std::numeric_limits<int32_t>::max()) {  // gather offsets are 32-bit
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(static_cast<int>(lk)));
    for (; i + 16 <= nq; i += 16)
      for (int64_t jj = 0; jj < nk; ++jj) {
        float* dst = st + jj * kBq + i;
        const __m512 bv = _mm512_i32gather_ps(rows, b + i * lk + jj, 4);
        _mm512_storeu_ps(dst, _mm512_fmadd_ps(bv, l2e, _mm512_loadu_ps(dst)));
      }
  }
  for (; i < nq; ++i)
    for (int64_t jj = 0; jj < nk; ++jj) st[jj * kBq + i] = std::fma(b[i * lk + jj], kLog2e, st[jj * kBq + i]);
}

// p[0:16] = 2^(p − m) (bf16-rounded when b16: P·V sees bf16(P)); returns sum + the unrounded values.
SAM3_AVX512 inline __m512 softmax_numerators(float* p, __m512 m, bool b16, __m512 sum) {
  const __m512 e = simd::exp2_softmax_ps16(_mm512_sub_ps(_mm512_loadu_ps(p), m));
  _mm512_storeu_ps(p, b16 ? simd::round_bf16_ps16(e) : e);
  return _mm512_add_ps(sum, e);
}

// One key tile (keys j0.., packed in kp / vp) for one sub-tile: scores, bias/padding, online softmax, O update.
SAM3_AVX512 void key_tile_step(const ops::AttentionArgs& a, int64_t h, const SubTile& t, int64_t j0, int64_t nk,
                               const float* kp, const float* vp, float* st) {
  const int64_t D = a.head_dim, nqp = t.nqp;
  // Sᵀ[nk, nqp] = K[j0:j0+nk] · Qᵀ
  int64_t j = 0;
  for (; j + 8 <= nk; j += 8) qk_rows<8>(kp + j * D, t.qt, nqp, D, st + j * kBq);
  switch (nk - j) {
    case 7: qk_rows<7>(kp + j * D, t.qt, nqp, D, st + j * kBq); break;
    case 6: qk_rows<6>(kp + j * D, t.qt, nqp, D, st + j * kBq); break;
    case 5: qk_rows<5>(kp + j * D, t.qt, nqp, D, st + j * kBq); break;
    case 4: qk_rows<4>(kp + j * D, t.qt, nqp, D, st + j * kBq); break;
    case 3: qk_rows<3>(kp + j * D, t.qt, nqp, D, st + j * kBq); break;
    case 2: qk_rows<2>(kp + j * D, t.qt, nqp, D, st + j * kBq); break;
    case 1: qk_rows<1>(kp + j * D, t.qt, nqp, D, st + j * kBq); break;
    default: break;
  }
  if (a.bias) add_bias_transposed(a.bias + h * a.bias_head + t.i0 * a.lk + j0, a.lk, t.nq, nk, st);
  flash::mask_keys(a, t, j0, nk, st);
  // Online softmax in log2 units, 16 queries per vector (attention.cpp's comments say why -inf maxima use 0).
  const __m512 neg_inf = _mm512_set1_ps(kNegInf);
  for (int64_t i = 0; i < nqp; i += 16) {
    __m512 mx0 = neg_inf, mx1 = neg_inf;
    int64_t jj = 0;
    for (; jj + 2 <= nk; jj += 2) {
      mx0 = _mm512_max_ps(mx0, _mm512_loadu_ps(st + jj * kBq + i));
      mx1 = _mm512_max_ps(mx1, _mm512_loadu_ps(st + (jj + 1) * kBq + i));
    }
    if (jj < nk) mx0 = _mm512_max_ps(mx0, _mm512_loadu_ps(st + jj * kBq + i));
    const __m512 m_old = _mm512_loadu_ps(t.m + i);
    const __m512 m_new = _mm512_max_ps(m_old, _mm512_max_ps(mx0, mx1));
    const __m512 m_use = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(m_new, neg_inf, _CMP_NEQ_UQ), m_new);
    const __m512 al = simd::exp2_softmax_ps16(_mm512_sub_ps(m_old, m_use));
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (jj = 0; jj + 2 <= nk; jj += 2) {
      s0 = softmax_numerators(st + jj * kBq + i, m_use, a.bf16, s0);
      s1 = softmax_numerators(st + (jj + 1) * kBq + i, m_use, a.bf16, s1);
    }
    if (jj < nk) s0 = softmax_numerators(st + jj * kBq + i, m_use, a.bf16, s0);
    _mm512_storeu_ps(t.m + i, m_new);
    _mm512_storeu_ps(t.alpha + i, al);
    _mm512_storeu_ps(t.l + i, _mm512_fmadd_ps(_mm512_loadu_ps(t.l + i), al, _mm512_add_ps(s0, s1)));
  }
  // O[nqp, D] = O·alpha + P · V[j0:j0+nk]   (P read from Sᵀ)
  if (D % 32 == 0)
    pv_all<2>(st, vp, nk, t.alpha, t.o, nqp, D);
  else
    pv_all<1>(st, vp, nk, t.alpha, t.o, nqp, D);
}

// The K tile as kp [nk][D] and the V tile as vp [D/16W][nk][16W], each value rounded to bf16 when round.
SAM3_AVX512 void pack_kv(const float* k, int64_t k_row, const float* v, int64_t v_row, int64_t nk, int64_t D,
                         bool round, float* kp, float* vp) {
  const int64_t cw = D % 32 == 0 ? 32 : 16;  // V column block width
  for (int64_t j = 0; j < nk; ++j) {
    const float* ks = k + j * k_row;
    const float* vs = v + j * v_row;
    if (j + kAhead < nk) {
      prefetch_row(ks + kAhead * k_row, D);
      prefetch_row(vs + kAhead * v_row, D);
    }
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
      const __m512 kv = _mm512_loadu_ps(ks + d0), vv = _mm512_loadu_ps(vs + d0);
      _mm512_storeu_ps(kp + j * D + d0, round ? simd::round_bf16_ps16(kv) : kv);
      const int64_t blk = d0 & -cw;  // the column block holding d0 (cw a power of two: no division in this loop)
      _mm512_storeu_ps(vp + blk * nk + j * cw + (d0 - blk), round ? simd::round_bf16_ps16(vv) : vv);
    }
  }
}

// One work item: head h, queries [i0, i0+nq), nq ≤ kGroup·kBq, as up to kGroup sub-tiles sharing each K/V tile.
SAM3_AVX512 void attend_block(const ops::AttentionArgs& a, int64_t h, int64_t i0, int64_t nq, Scratch& sc) {
  const int64_t D = a.head_dim;
  SubTile tiles[kGroup];
  const int64_t n_sub = flash::init_subtiles(a, h, i0, nq, 32, sc, tiles);  // Qᵀ scaled to log2 units
  const float* kh = a.k + h * a.k_head;
  const float* vh = a.v + h * a.v_head;
  const int64_t lk = a.causal ? std::min(a.lk, i0 + nq) : a.lk;  // later key tiles are hidden from the whole block
  for (int64_t j0 = 0; j0 < lk; j0 += kBk) {
    const int64_t nk = std::min(kBk, lk - j0);
    pack_kv(kh + j0 * a.k_row, a.k_row, vh + j0 * a.v_row, a.v_row, nk, D, a.bf16, sc.kp.data(), sc.vp.data());
    for (int64_t s = 0; s < n_sub; ++s) key_tile_step(a, h, tiles[s], j0, nk, sc.kp.data(), sc.vp.data(), sc.s.data());
  }
  for (int64_t s = 0; s < n_sub; ++s) flash::write_out(a, h, tiles[s]);
}

}  // namespace

// What this file is compiled for; ONEDNN_MAX_CPU_ISA caps it (the tests' AVX2 runs take the AVX2 kernels).
bool attention_avx512_available() { return onednn_isa_avx512(); }

void attention_avx512(const ops::AttentionArgs& a, int n_threads) {
  if (a.head_dim % 16 != 0 || !attention_avx512_available())
    throw Error("attention_avx512: needs head_dim % 16 == 0 and AVX-512");
  flash::for_each_work_item(a, n_threads, [&](int64_t h, int64_t i0, int64_t nq, Scratch& sc) {
    attend_block(a, h, i0, nq, sc);
  });
}

}  // namespace sam3::kernels::cpu

#else  // not x86-64: no AVX-512

namespace sam3::kernels::cpu {
bool attention_avx512_available() { return false; }
void attention_avx512(const ops::AttentionArgs&, int) { throw Error("attention_avx512: not an x86-64 build"); }
}  // namespace sam3::kernels::cpu

#endif

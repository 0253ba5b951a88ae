// sam3.cpp — few-query attention without the key / value projections (ops.h): with R = heads·lq rows,
//   qk [R, C] = scale·q_h·wk_h, qa [R, I] = scale·q_h on head h's columns (0 elsewhere),
//   S [R, lk] = qk·xᵀ + qa·k_addᵀ (two sgemms), P = row softmax of S, Z [R, C] = P·x (one sgemm),
//   out[t, h] = Z·wv_hᵀ + bv_h.
// For SAM's 8 prompt tokens over 5184 image tokens this is 64 rows against the 128-wide projections of 5184 keys.
// ref: sam3/sam/transformer.py (Attention.forward)
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/simd_math.h"

namespace sam3::kernels::cpu {

namespace {

// v = exp(v - max(v)) / Σ, in place.
void softmax_row(float* v, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, v[i]);
  float sum = 0;
  int64_t i = 0;
#ifdef SAM3_AVX2
  const __m256 vm = _mm256_set1_ps(mx);
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m256 e = simd::exp_ps(_mm256_sub_ps(_mm256_loadu_ps(v + i), vm));
    _mm256_storeu_ps(v + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, acc);
  for (float l : lanes) sum += l;
#endif
  for (; i < n; ++i) sum += (v[i] = simd::exp_scalar(v[i] - mx));
  const float inv = 1.0f / sum;
  for (int64_t k = 0; k < n; ++k) v[k] *= inv;
}

}  // namespace

void few_query_attention(const ops::FewQueryAttentionArgs& a, int n_threads) {
  const int64_t T = a.lq, H = a.n_heads, I = a.internal, hd = I / H, C = a.c, L = a.lk, R = H * T;
  std::vector<float> qk(static_cast<size_t>(R * C), 0.0f), qa(static_cast<size_t>(R * I), 0.0f);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < T; ++t) {
      float* row = qk.data() + (h * T + t) * C;
      for (int64_t e = 0; e < hd; ++e) {
        const int64_t i = h * hd + e;
        const float coef = a.scale * a.q[t * I + i];
        qa[static_cast<size_t>((h * T + t) * I + i)] = coef;
        const float* w = a.wk + i * C;
        for (int64_t c = 0; c < C; ++c) row[c] += coef * w[c];
      }
    }
  std::vector<float> s(static_cast<size_t>(R * L)), z(static_cast<size_t>(R * C));
  sgemm(false, true, R, L, C, qk.data(), C, a.x, a.x_row, s.data(), L, false, n_threads);
  sgemm(false, true, R, L, I, qa.data(), I, a.k_add, a.k_add_row, s.data(), L, true, n_threads);
  parallel_for(n_threads, R, [&](int64_t r) { softmax_row(s.data() + r * L, L); });
  sgemm(false, false, R, C, L, s.data(), L, a.x, a.x_row, z.data(), C, false, n_threads);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < T; ++t) {
      const float* zr = z.data() + (h * T + t) * C;
      for (int64_t e = 0; e < hd; ++e) {
        const int64_t i = h * hd + e;
        const float* w = a.wv + i * C;
        float o = 0;
        for (int64_t c = 0; c < C; ++c) o += w[c] * zr[c];
        a.out[t * I + i] = o + a.bv[i];
      }
    }
}

}  // namespace sam3::kernels::cpu

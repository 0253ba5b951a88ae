// sam3.cpp — fused multi-head attention, flash style: for each (head, tile of kBq queries) the keys are visited
// in tiles of kBk; S = Q·Kᵀ and O += P·V are single-threaded sgemm calls on the tiles (K and V are read in
// place through their row strides), and the softmax is computed online (running max m and sum l per query,
// O rescaled by e^(m_old - m_new) when the max grows). Nothing of size Lq×Lk exists: each thread holds one
// kBq×kBk score tile plus its Q and O tiles (≈ 100 KB for head_dim 64), allocated once per call.
// ref: torch.nn.functional.scaled_dot_product_attention
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu.h"
#include "kernels/simd_math.h"

namespace sam3::kernels::cpu {

namespace {

constexpr int64_t kBq = 64;   // queries per work item
constexpr int64_t kBk = 256;  // keys per inner tile
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Scratch {
  std::vector<float> q, s, o, m, l;
  explicit Scratch(int64_t d)
      : q(static_cast<size_t>(kBq * d)), s(static_cast<size_t>(kBq * kBk)), o(static_cast<size_t>(kBq * d)),
        m(kBq), l(kBq) {}
};

inline float row_max(const float* s, int64_t n) {
  int64_t j = 0;
  float mx = kNegInf;
#ifdef SAM3_AVX2
  __m256 a = _mm256_set1_ps(kNegInf), b = a;
  for (; j + 16 <= n; j += 16) {
    a = _mm256_max_ps(a, _mm256_loadu_ps(s + j));
    b = _mm256_max_ps(b, _mm256_loadu_ps(s + j + 8));
  }
  for (; j + 8 <= n; j += 8) a = _mm256_max_ps(a, _mm256_loadu_ps(s + j));
  a = _mm256_max_ps(a, b);
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  mx = _mm_cvtss_f32(h);
#endif
  for (; j < n; ++j) mx = std::max(mx, s[j]);
  return mx;
}

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
  a = _mm256_add_ps(a, b);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  sum = _mm_cvtss_f32(h);
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

// One work item: head h, queries [i0, i0+nq).
void attend_tile(const ops::AttentionArgs& a, int64_t h, int64_t i0, int64_t nq, Scratch& sc) {
  const int64_t D = a.head_dim;
  float* qt = sc.q.data();
  float* st = sc.s.data();
  float* ot = sc.o.data();
  for (int64_t i = 0; i < nq; ++i) {
    const float* src = a.q + (i0 + i) * a.q_row + h * a.q_head;
    for (int64_t d = 0; d < D; ++d) qt[i * D + d] = src[d] * a.scale;
    sc.m[static_cast<size_t>(i)] = kNegInf;
    sc.l[static_cast<size_t>(i)] = 0.0f;
  }
  std::fill(ot, ot + nq * D, 0.0f);
  const float* kh = a.k + h * a.k_head;
  const float* vh = a.v + h * a.v_head;
  for (int64_t j0 = 0; j0 < a.lk; j0 += kBk) {
    const int64_t nk = std::min(kBk, a.lk - j0);
    // S[nq, nk] = Qs · K[j0:j0+nk]ᵀ
    sgemm(false, true, nq, nk, D, qt, D, kh + j0 * a.k_row, a.k_row, st, kBk, false, 1);
    bool any = false;  // does any query in the tile have a finite score in this key tile?
    for (int64_t i = 0; i < nq; ++i) {
      float* s = st + i * kBk;
      if (a.bias) {
        const float* b = a.bias + h * a.bias_head + (i0 + i) * a.lk + j0;
        for (int64_t j = 0; j < nk; ++j) s[j] += b[j];
      }
      if (a.key_pad) {
        for (int64_t j = 0; j < nk; ++j)
          if (a.key_pad[j0 + j]) s[j] = kNegInf;
      }
      float& m = sc.m[static_cast<size_t>(i)];
      float& l = sc.l[static_cast<size_t>(i)];
      const float m_new = std::max(m, row_max(s, nk));
      if (m_new == kNegInf) {  // every key so far masked: this tile contributes nothing to the row
        std::fill(s, s + nk, 0.0f);
        continue;
      }
      any = true;
      if (m_new > m) {
        const float alpha = simd::exp_scalar(m - m_new);  // 0 when m was -inf
        l *= alpha;
        scale_row(ot + i * D, D, alpha);
        m = m_new;
      }
      l += exp_sum(s, nk, m);
    }
    // O[nq, D] += P[nq, nk] · V[j0:j0+nk]
    if (any) sgemm(false, false, nq, D, nk, st, kBk, vh + j0 * a.v_row, a.v_row, ot, D, true, 1);
  }
  for (int64_t i = 0; i < nq; ++i) {
    const float l = sc.l[static_cast<size_t>(i)];
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    float* dst = a.out + (i0 + i) * a.o_row + h * a.o_head;
    for (int64_t d = 0; d < D; ++d) dst[d] = ot[i * D + d] * inv;
  }
}

}  // namespace

void attention(const ops::AttentionArgs& a, int n_threads) {
  const int64_t q_tiles = (a.lq + kBq - 1) / kBq;
  const int64_t items = a.n_heads * q_tiles;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n_threads, items)));
  auto run = [&](int64_t it, Scratch& sc) {
    const int64_t h = it / q_tiles, i0 = (it % q_tiles) * kBq;
    attend_tile(a, h, i0, std::min(kBq, a.lq - i0), sc);
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

}  // namespace sam3::kernels::cpu

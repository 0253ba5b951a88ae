// sam3.cpp — LayerNorm over the last dim, threaded over rows. Per row (C floats, in L1): pass 1 the mean,
// pass 2 the biased variance of the deviations (two-pass, no E[x²]-E[x]² cancellation), pass 3 the affine output.
// ref: torch.nn.functional.layer_norm
#include <cmath>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/simd_math.h"

namespace sam3::kernels::cpu {

namespace {

void norm_row(const float* x, const float* g, const float* b, float eps, float* y, int64_t C) {
  int64_t i = 0;
  float sum = 0;
#ifdef SAM3_AVX2
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (; i + 16 <= C; i += 16) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
  }
  for (; i + 8 <= C; i += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
  sum = simd::hsum_ps(_mm256_add_ps(a0, a1));
#endif
  for (; i < C; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(C);

  i = 0;
  float ss = 0;
#ifdef SAM3_AVX2
  const __m256 vm = _mm256_set1_ps(mean);
  a0 = _mm256_setzero_ps();
  a1 = _mm256_setzero_ps();
  for (; i + 16 <= C; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm);
    a0 = _mm256_fmadd_ps(d0, d0, a0);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
  }
  for (; i + 8 <= C; i += 8) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
    a0 = _mm256_fmadd_ps(d0, d0, a0);
  }
  ss = simd::hsum_ps(_mm256_add_ps(a0, a1));
#endif
  for (; i < C; ++i) ss += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);

  i = 0;
#ifdef SAM3_AVX2
  const __m256 vi = _mm256_set1_ps(inv);
  for (; i + 8 <= C; i += 8) {
    const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vi);
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(d, _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i)));
  }
#endif
  for (; i < C; ++i) y[i] = (x[i] - mean) * inv * g[i] + b[i];
}

// y[c] = x[c] + bias[c] (y may be x), vectorised.
void add_row(const float* x, const float* bias, float* y, int64_t C) {
  int64_t i = 0;
#ifdef SAM3_AVX2
  for (; i + 8 <= C; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(bias + i)));
#endif
  for (; i < C; ++i) y[i] = x[i] + bias[i];
}

}  // namespace

void bias_layer_norm(const float* x, const float* bias, const float* gamma, const float* beta, float eps, float* y,
                     int64_t rows, int64_t C, int n_threads) {
  parallel_for(n_threads, rows, [&](int64_t r) {
    add_row(x + r * C, bias, y + r * C, C);  // the row stays in L1 for the normalisation
    norm_row(y + r * C, gamma, beta, eps, y + r * C, C);
  });
}

void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y, int64_t rows,
                int64_t C, int n_threads) {
  parallel_for(n_threads, rows, [&](int64_t r) { norm_row(x + r * C, gamma, beta, eps, y + r * C, C); });
}

}  // namespace sam3::kernels::cpu

// sam3.cpp — exact (erf) GELU: x·½·(1 + erf(x/√2)), with the vectorised erf of kernels/simd_math.h
// (7.3e-8 absolute error; on this hot path, 785M values per image, std::erf is ~9× slower: 261 ms vs 27 ms for
// 5184×4736 values on one thread). 16 lanes where oneDNN's ISA is AVX-512, 8 (AVX2) elsewhere: the same floats.
// ref: torch.nn.GELU(approximate='none')

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized reports at every inlined
// use (GCC bug 105593, fixed in GCC 13): a false positive, silenced for this file only (as attention_avx512.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <algorithm>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_matmul.h"
#include "kernels/simd_math.h"

namespace sam3::kernels::cpu {

namespace {

constexpr int64_t kChunk = 16384;
constexpr float kInvSqrt2 = 0.70710678118654752f;

void gelu_span(float* x, int64_t n) {
  int64_t i = 0;
#ifdef SAM3_AVX2
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), k = _mm256_set1_ps(kInvSqrt2);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 e = simd::erf_ps(_mm256_mul_ps(v, k));
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
  }
#endif
  for (; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + simd::erf_scalar(x[i] * kInvSqrt2));
}

#if defined(__x86_64__)
// gelu_span with 16 lanes: the same floats (simd::erf_ps16 is erf_ps lane by lane); the tail as gelu_span's.
SAM3_AVX512 void gelu_span_avx512(float* x, int64_t n) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), k = _mm512_set1_ps(kInvSqrt2);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 e = simd::erf_ps16(_mm512_mul_ps(v, k));
    _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
  }
  gelu_span(x + i, n - i);
}
#endif

}  // namespace

void gelu(float* x, int64_t n, int n_threads) {
#if defined(__x86_64__)
  // oneDNN's effective ISA decides, as for the attention kernels: ONEDNN_MAX_CPU_ISA=AVX2 caps both.
  const bool avx512 = onednn_isa_avx512();
#else
  const bool avx512 = false;
#endif
  parallel_for(n_threads, (n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t b = c * kChunk;
#if defined(__x86_64__)
    if (avx512) return gelu_span_avx512(x + b, std::min(kChunk, n - b));
#endif
    gelu_span(x + b, std::min(kChunk, n - b));
  });
}

}  // namespace sam3::kernels::cpu

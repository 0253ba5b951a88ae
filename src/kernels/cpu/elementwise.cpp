// sam3.cpp — element-wise add and ReLU: AVX2 loops, threaded over fixed-size chunks (memory-bound; the chunk
// keeps each thread's stream contiguous).
#include <algorithm>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/simd_math.h"

namespace sam3::kernels::cpu {

namespace {

constexpr int64_t kChunk = 16384;

template <class F>
void chunked(int n_threads, int64_t n, F&& f) {
  parallel_for(n_threads, (n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t b = c * kChunk;
    f(b, std::min(kChunk, n - b));
  });
}

}  // namespace

void relu(float* x, int64_t n, int n_threads) {
  chunked(n_threads, n, [&](int64_t b, int64_t len) {
    float* p = x + b;
    int64_t i = 0;
#ifdef SAM3_AVX2
    // max(x, 0) with x as the second operand so NaN propagates (torch.relu(NaN) = NaN).
    for (; i + 8 <= len; i += 8) _mm256_storeu_ps(p + i, _mm256_max_ps(_mm256_setzero_ps(), _mm256_loadu_ps(p + i)));
#endif
    for (; i < len; ++i) p[i] = p[i] < 0.0f ? 0.0f : p[i];
  });
}

void add(const float* a, const float* b, float* y, int64_t n, int n_threads) {
  chunked(n_threads, n, [&](int64_t s, int64_t len) {
    const float *pa = a + s, *pb = b + s;
    float* py = y + s;
    int64_t i = 0;
#ifdef SAM3_AVX2
    for (; i + 8 <= len; i += 8)
      _mm256_storeu_ps(py + i, _mm256_add_ps(_mm256_loadu_ps(pa + i), _mm256_loadu_ps(pb + i)));
#endif
    for (; i < len; ++i) py[i] = pa[i] + pb[i];
  });
}

}  // namespace sam3::kernels::cpu

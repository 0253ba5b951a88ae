// sam3.cpp — exact (erf) GELU. Provisional: std::erf, threaded.
#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

void gelu(float* x, int64_t n, int n_threads) {
  constexpr int64_t kChunk = 4096;
  parallel_for(n_threads, (n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t e = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < e; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
  });
}

}  // namespace sam3::kernels::cpu

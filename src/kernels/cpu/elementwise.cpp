// sam3.cpp — element-wise add and ReLU. Provisional: plain loops (auto-vectorised), threaded in chunks.
#include <algorithm>

#include "core/parallel.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

namespace {
constexpr int64_t kChunk = 16384;
}

void relu(float* x, int64_t n, int n_threads) {
  parallel_for(n_threads, (n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t e = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < e; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
  });
}

void add(const float* a, const float* b, float* y, int64_t n, int n_threads) {
  parallel_for(n_threads, (n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t e = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < e; ++i) y[i] = a[i] + b[i];
  });
}

}  // namespace sam3::kernels::cpu

// sam3.cpp — 2×2 stride-2 max pooling, threaded over (channel, output row). NaN propagates like torch.
#include <cmath>

#include "core/parallel.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

namespace {
inline float nanmax(float a, float b) { return (a > b || std::isnan(a)) ? a : b; }
}  // namespace

void max_pool2d_k2s2(const float* x, int64_t c, int64_t h, int64_t w_in, float* y, int n_threads) {
  const int64_t ho = h / 2, wo = w_in / 2;
  parallel_for(n_threads, c * ho, [&](int64_t job) {
    const int64_t ch = job / ho, oy = job % ho;
    const float* r0 = x + (ch * h + 2 * oy) * w_in;
    const float* r1 = r0 + w_in;
    float* d = y + job * wo;
    for (int64_t ox = 0; ox < wo; ++ox)
      d[ox] = nanmax(nanmax(r0[2 * ox], r0[2 * ox + 1]), nanmax(r1[2 * ox], r1[2 * ox + 1]));
  });
}

}  // namespace sam3::kernels::cpu

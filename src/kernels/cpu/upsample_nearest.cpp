// sam3.cpp — legacy nearest resize (+ optional addend), parallel over (channel, output row); exact 2× steps are
// pixel replication. ref: torch.nn.functional.interpolate(mode="nearest")
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu.h"
#include "core/parallel.h"

namespace sam3::kernels::cpu {

void upsample_nearest(const float* x, int64_t c, int64_t h, int64_t w, const float* addend, int64_t oh, int64_t ow,
                      float* y, int n_threads) {
  const float sh = static_cast<float>(h) / static_cast<float>(oh);
  const float sw = static_cast<float>(w) / static_cast<float>(ow);
  std::vector<int64_t> col(static_cast<size_t>(ow));
  for (int64_t j = 0; j < ow; ++j)
    col[static_cast<size_t>(j)] = std::min(static_cast<int64_t>(std::floor(static_cast<float>(j) * sw)), w - 1);
  parallel_for(n_threads, c * oh, [&](int64_t r) {
    const int64_t ch = r / oh, i = r % oh;
    const int64_t si = std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * sh)), h - 1);
    const float* src = x + (ch * h + si) * w;
    float* dst = y + r * ow;
    if (addend) {
      const float* a = addend + r * ow;
      for (int64_t j = 0; j < ow; ++j) dst[j] = a[j] + src[col[static_cast<size_t>(j)]];
    } else {
      for (int64_t j = 0; j < ow; ++j) dst[j] = src[col[static_cast<size_t>(j)]];
    }
  });
}

}  // namespace sam3::kernels::cpu

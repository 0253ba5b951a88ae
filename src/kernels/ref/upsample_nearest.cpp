// sam3.cpp — reference legacy nearest resize (+ optional addend).
// ref: torch.nn.functional.interpolate(mode="nearest"): src = min(floor(dst · (float)in/out), in-1)
#include <algorithm>
#include <cmath>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void upsample_nearest(const float* x, int64_t c, int64_t h, int64_t w, const float* addend, int64_t oh, int64_t ow,
                      float* y) {
  const float sh = static_cast<float>(h) / static_cast<float>(oh);
  const float sw = static_cast<float>(w) / static_cast<float>(ow);
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t i = 0; i < oh; ++i) {
      const int64_t si = std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * sh)), h - 1);
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t sj = std::min(static_cast<int64_t>(std::floor(static_cast<float>(j) * sw)), w - 1);
        const int64_t o = (ch * oh + i) * ow + j;
        y[o] = x[(ch * h + si) * w + sj] + (addend ? addend[o] : 0.0f);
      }
    }
  }
}

}  // namespace sam3::kernels::ref

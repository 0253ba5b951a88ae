// sam3.cpp — reference for kernels::cpu::conv3x3_up2_accumulate: the polyphase form evaluated directly (double sums).
// ref: kernels/cpu/conv_up2.cpp (the identity it uses is tested against conv2d(upsample_nearest(x)))
#include "kernels/ref.h"

namespace sam3::kernels::ref {

void conv3x3_up2_accumulate(const float* x, int64_t cin, int64_t h, int64_t w, const float* wp, int64_t cout,
                            float* y) {
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t oy = 0; oy < 2 * h; ++oy) {
      for (int64_t ox = 0; ox < 2 * w; ++ox) {
        const int64_t a = oy & 1, b = ox & 1, i = oy >> 1, j = ox >> 1;
        double s = 0;
        for (int64_t r = 0; r < 2; ++r) {
          const int64_t si = i + r - 1 + a;
          if (si < 0 || si >= h) continue;
          for (int64_t c = 0; c < 2; ++c) {
            const int64_t sj = j + c - 1 + b;
            if (sj < 0 || sj >= w) continue;
            const float* wt = wp + ((((a * 2 + b) * 2 + r) * 2 + c) * cout + co) * cin;
            for (int64_t ci = 0; ci < cin; ++ci) s += static_cast<double>(wt[ci]) * x[(ci * h + si) * w + sj];
          }
        }
        float& dst = y[(co * 2 * h + oy) * 2 * w + ox];
        dst = static_cast<float>(dst + s);
      }
    }
  }
}

}  // namespace sam3::kernels::ref

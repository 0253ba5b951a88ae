// sam3.cpp — y += conv3x3_pad1(nearest_up2(x)) computed on x itself. On the 2× replicated map each output phase
// (row parity a, column parity b) sees only a 2×2 window of x: kernel rows (or columns) that land on the same source
// pixel act as one tap with their weights summed (ops::conv3x3_up2_weights), so a phase costs 4 taps instead of 9:
//   y[co, 2i+a, 2j+b] += Σ_{r,c ∈ {0,1}} Σ_ci wp[a,b,r,c][co, ci] · x[ci, i+r-1+a, j+c-1+b]   (0 outside x).
// Each (phase, tap) is one sgemm [Cout, h·(w+2)] += wp[Cout, Cin] · X_shift[Cin, h·(w+2)] where X_shift is the
// zero-padded copy of x read at the tap's offset (an implicit GEMM: outputs are computed over the padded width, and
// the 2 extra columns of each row are dropped when the phase is interleaved into y).
// ref: the identity conv(up(x)) = polyphase conv(x) (e.g. "sub-pixel convolution", Shi et al. 2016)
#include <algorithm>
#include <cstring>
#include <memory>

#include "core/parallel.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

void conv3x3_up2_accumulate(const float* x, int64_t cin, int64_t h, int64_t w, const float* wp, int64_t cout,
                            float* y, int n_threads) {
  const int64_t wpad = w + 2, plane = (h + 2) * wpad, n = h * wpad;
  // xp [Cin, h+2, w+2]: x with a zero border, + 2 floats so the last channel's shifted reads stay in the buffer
  // (they only feed dropped columns).
  std::unique_ptr<float[]> xp(new float[static_cast<size_t>(cin * plane + 2)]);
  xp[static_cast<size_t>(cin * plane)] = xp[static_cast<size_t>(cin * plane + 1)] = 0.0f;
  parallel_for(n_threads, cin, [&](int64_t ci) {
    float* d = xp.get() + ci * plane;
    std::fill(d, d + wpad, 0.0f);
    for (int64_t i = 0; i < h; ++i) {
      float* row = d + (i + 1) * wpad;
      row[0] = 0.0f;
      std::memcpy(row + 1, x + (ci * h + i) * w, static_cast<size_t>(w) * sizeof(float));
      row[w + 1] = 0.0f;
    }
    std::fill(d + (h + 1) * wpad, d + plane, 0.0f);
  });
  std::unique_ptr<float[]> t(new float[static_cast<size_t>(cout * n)]);  // one phase [Cout, h·(w+2)]
  const int64_t W2 = 2 * w;
  for (int64_t a = 0; a < 2; ++a) {
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t r = 0; r < 2; ++r) {
        for (int64_t c = 0; c < 2; ++c) {
          // Output (i, j) reads padded (i + r + a, j + c + b): source row i+r-1+a, column j+c-1+b.
          const float* wt = wp + (((a * 2 + b) * 2 + r) * 2 + c) * cout * cin;
          const float* xs = xp.get() + (r + a) * wpad + (c + b);
          sgemm(false, false, cout, n, cin, wt, cin, xs, plane, t.get(), n, r + c > 0, n_threads);
        }
      }
      parallel_for(n_threads, cout, [&](int64_t co) {
        for (int64_t i = 0; i < h; ++i) {
          const float* src = t.get() + co * n + i * wpad;
          float* dst = y + (co * 2 * h + 2 * i + a) * W2 + b;
          for (int64_t j = 0; j < w; ++j) dst[2 * j] += src[j];
        }
      });
    }
  }
}

}  // namespace sam3::kernels::cpu

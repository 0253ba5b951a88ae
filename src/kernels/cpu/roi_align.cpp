// sam3.cpp — RoIAlign, CPU: per box, the four taps and weights of every sample are computed once (they are shared by
// all channels), then (box, channel) planes are pooled in parallel. Float32 throughout, in torchvision's order, so
// the result matches torchvision's CPU kernel to rounding.
// ref: torchvision/csrc/ops/cpu/roi_align_kernel.cpp, roi_align_common.h (pre_calc_for_bilinear_interpolate)
#include <vector>

#include "kernels/cpu.h"
#include "core/parallel.h"

// Bit-faithful float32 geometry (box corners, RoI sample positions) needs every product rounded as torch rounds it:
// no fused multiply-add contraction in this file.
#include "core/strict_fp.h"  // no FMA contraction: see that header

namespace sam3::kernels::cpu {

namespace {

struct Tap {
  int64_t pos[4];
  float w[4];
};

// Taps of every sample of one box, ordered (ph, pw, iy, ix).
std::vector<Tap> precompute(const RoiAlignArgs& a, const RoiGeometry& g) {
  std::vector<Tap> taps;
  taps.reserve(static_cast<size_t>(a.out_h * a.out_w) * static_cast<size_t>(g.grid_h) * static_cast<size_t>(g.grid_w));
  for (int ph = 0; ph < a.out_h; ++ph) {
    for (int pw = 0; pw < a.out_w; ++pw) {
      for (int iy = 0; iy < g.grid_h; ++iy) {
        const float yy = roi_sample_coord(g.start_h, g.bin_h, ph, iy, g.grid_h);
        for (int ix = 0; ix < g.grid_w; ++ix) {
          float x = roi_sample_coord(g.start_w, g.bin_w, pw, ix, g.grid_w);
          float y = yy;
          Tap t{};
          if (!(y >= -1.0 && y <= static_cast<double>(a.h) && x >= -1.0 && x <= static_cast<double>(a.w))) {
            taps.push_back(t);  // outside: weights 0
            continue;
          }
          if (y <= 0) y = 0;
          if (x <= 0) x = 0;
          int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
          if (y0 >= a.h - 1) {
            y1 = y0 = a.h - 1;
            y = static_cast<float>(y0);
          } else {
            y1 = y0 + 1;
          }
          if (x0 >= a.w - 1) {
            x1 = x0 = a.w - 1;
            x = static_cast<float>(x0);
          } else {
            x1 = x0 + 1;
          }
          const float ly = y - static_cast<float>(y0), lx = x - static_cast<float>(x0);
          const float hy = 1.0f - ly, hx = 1.0f - lx;
          t.pos[0] = y0 * a.w + x0;
          t.pos[1] = y0 * a.w + x1;
          t.pos[2] = y1 * a.w + x0;
          t.pos[3] = y1 * a.w + x1;
          t.w[0] = hy * hx;
          t.w[1] = hy * lx;
          t.w[2] = ly * hx;
          t.w[3] = ly * lx;
          taps.push_back(t);
        }
      }
    }
  }
  return taps;
}

}  // namespace

void roi_align(const RoiAlignArgs& a, int n_threads) {
  std::vector<RoiGeometry> geo(static_cast<size_t>(a.n));
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(a.n));
  for (int64_t n = 0; n < a.n; ++n) {
    geo[static_cast<size_t>(n)] = roi_geometry(a, n);
    taps[static_cast<size_t>(n)] = precompute(a, geo[static_cast<size_t>(n)]);
  }
  const int64_t bins = a.out_h * a.out_w;
  parallel_for(n_threads, a.n * a.c, [&](int64_t nc) {
    const int64_t n = nc / a.c, c = nc % a.c;
    const RoiGeometry& g = geo[static_cast<size_t>(n)];
    const Tap* t = taps[static_cast<size_t>(n)].data();
    const int64_t per_bin = static_cast<int64_t>(g.grid_h) * g.grid_w;
    const float* plane = a.x + c * a.h * a.w;
    float* out = a.y + nc * bins;
    for (int64_t b = 0; b < bins; ++b) {
      float v = 0.0f;
      for (int64_t s = 0; s < per_bin; ++s, ++t) {
        v += t->w[0] * plane[t->pos[0]] + t->w[1] * plane[t->pos[1]] + t->w[2] * plane[t->pos[2]] +
             t->w[3] * plane[t->pos[3]];
      }
      out[b] = v / g.count;
    }
  });
}

}  // namespace sam3::kernels::cpu

// sam3.cpp — reference RoIAlign: one output at a time, bilinear weights and the bin sum in double. Only the
// sample positions are float32 (they define the op: torchvision computes them in the input dtype).
// ref: torchvision/csrc/ops/cpu/roi_align_kernel.cpp, roi_align_common.h
#include "kernels/ref.h"

// Bit-faithful float32 geometry (box corners, RoI sample positions) needs every product rounded as torch rounds it:
// no fused multiply-add contraction in this file.
#include "core/strict_fp.h"  // no FMA contraction: see that header

namespace sam3::kernels::ref {

namespace {

// Bilinear sample of plane p[h,w] at (y, x) with torchvision's border rules, in double.
double sample(const float* p, int64_t h, int64_t w, float yf, float xf) {
  if (!(yf >= -1.0 && yf <= static_cast<double>(h) && xf >= -1.0 && xf <= static_cast<double>(w))) return 0.0;
  double y = yf <= 0 ? 0.0 : yf, x = xf <= 0 ? 0.0 : xf;
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
  if (y0 >= h - 1) {
    y0 = y1 = h - 1;
    y = static_cast<double>(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= w - 1) {
    x0 = x1 = w - 1;
    x = static_cast<double>(x0);
  } else {
    x1 = x0 + 1;
  }
  const double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  return hy * hx * p[y0 * w + x0] + hy * lx * p[y0 * w + x1] + ly * hx * p[y1 * w + x0] + ly * lx * p[y1 * w + x1];
}

}  // namespace

void roi_align(const RoiAlignArgs& a) {
  for (int64_t n = 0; n < a.n; ++n) {
    const RoiGeometry g = roi_geometry(a, n);
    for (int64_t c = 0; c < a.c; ++c) {
      const float* plane = a.x + c * a.h * a.w;
      for (int64_t ph = 0; ph < a.out_h; ++ph) {
        for (int64_t pw = 0; pw < a.out_w; ++pw) {
          double sum = 0;
          for (int iy = 0; iy < g.grid_h; ++iy) {
            const float y = roi_sample_coord(g.start_h, g.bin_h, static_cast<int>(ph), iy, g.grid_h);
            for (int ix = 0; ix < g.grid_w; ++ix) {
              const float x = roi_sample_coord(g.start_w, g.bin_w, static_cast<int>(pw), ix, g.grid_w);
              sum += sample(plane, a.h, a.w, y, x);
            }
          }
          a.y[((n * a.c + c) * a.out_h + ph) * a.out_w + pw] = static_cast<float>(sum / g.count);
        }
      }
    }
  }
}

}  // namespace sam3::kernels::ref

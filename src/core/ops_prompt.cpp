// sam3.cpp — shape checks and dispatch for the prompt-encoder ops (core/ops_prompt.h).
#include "core/ops_prompt.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

// Bit-faithful float32 geometry (box corners, RoI sample positions) needs every product rounded as torch rounds it:
// no fused multiply-add contraction in this file.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace sam3::ops {

void roi_align(const Tensor& x, const Tensor& boxes, float spatial_scale, int sampling_ratio, bool aligned, Tensor& y,
               int n_threads) {
  if (x.dtype() != DType::F32 || boxes.dtype() != DType::F32 || y.dtype() != DType::F32)
    throw Error("roi_align: x, boxes and y must be F32");
  Shape sx = x.shape();
  if (sx.size() == 4 && sx[0] == 1) sx.erase(sx.begin());
  if (sx.size() != 3) throw Error("roi_align: x must be [C,H,W] or [1,C,H,W], got " + shape_str(x.shape()));
  if (boxes.dim() != 2 || boxes.size(1) != 4) throw Error("roi_align: boxes must be [N,4], got " + shape_str(boxes.shape()));
  const int64_t n = boxes.size(0);
  if (y.dim() != 4 || y.size(0) != n || y.size(1) != sx[0] || y.size(2) <= 0 || y.size(3) <= 0)
    throw Error("roi_align: y must be [N=" + std::to_string(n) + ", C=" + std::to_string(sx[0]) +
                ", out_h, out_w], got " + shape_str(y.shape()));
  if (n == 0 || sx[0] == 0) return;
  if (sx[1] <= 0 || sx[2] <= 0) throw Error("roi_align: empty feature map " + shape_str(x.shape()));
  kernels::RoiAlignArgs a;
  a.x = x.f32();
  a.c = sx[0];
  a.h = sx[1];
  a.w = sx[2];
  a.boxes = boxes.f32();
  a.n = n;
  a.spatial_scale = spatial_scale;
  a.sampling_ratio = sampling_ratio;
  a.aligned = aligned;
  a.out_h = y.size(2);
  a.out_w = y.size(3);
  a.y = y.f32();
  kernels::cpu::roi_align(a, n_threads);
}

}  // namespace sam3::ops

namespace sam3::kernels {

// ref: torchvision roi_align_forward_kernel_impl (the per-box preamble), T = float.
RoiGeometry roi_geometry(const RoiAlignArgs& a, int64_t box) {
  const float* b = a.boxes + box * 4;
  const float offset = a.aligned ? 0.5f : 0.0f;
  RoiGeometry g;
  g.start_w = b[0] * a.spatial_scale - offset;
  g.start_h = b[1] * a.spatial_scale - offset;
  const float end_w = b[2] * a.spatial_scale - offset;
  const float end_h = b[3] * a.spatial_scale - offset;
  float roi_w = end_w - g.start_w;
  float roi_h = end_h - g.start_h;
  if (!a.aligned) {  // malformed RoIs are forced to 1x1
    roi_w = std::max(roi_w, 1.0f);
    roi_h = std::max(roi_h, 1.0f);
  }
  g.bin_h = roi_h / static_cast<float>(a.out_h);
  g.bin_w = roi_w / static_cast<float>(a.out_w);
  const int gh = a.sampling_ratio > 0 ? a.sampling_ratio : static_cast<int>(std::ceil(roi_h / static_cast<float>(a.out_h)));
  const int gw = a.sampling_ratio > 0 ? a.sampling_ratio : static_cast<int>(std::ceil(roi_w / static_cast<float>(a.out_w)));
  g.count = static_cast<float>(std::max(gh * gw, 1));
  // Negative grids (only possible with aligned=true and inverted boxes) sample nothing, as upstream's loops do.
  g.grid_h = std::max(gh, 0);
  g.grid_w = std::max(gw, 0);
  return g;
}

float roi_sample_coord(float start, float bin, int p, int i, int grid) {
  return start + static_cast<float>(p) * bin + static_cast<float>(i + .5f) * bin / static_cast<float>(grid);
}

}  // namespace sam3::kernels

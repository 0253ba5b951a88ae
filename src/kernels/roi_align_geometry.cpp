// sam3.cpp — RoIAlign box geometry (see kernels/roi_align_geometry.h).
#include "core/strict_fp.h"  // bit-faithful float32 geometry: every product rounded as torch rounds it

#include <algorithm>
#include <cmath>

#include "kernels/roi_align_geometry.h"

namespace sam3::kernels {

int roi_grid(float roi, int64_t pooled, int64_t extent) {
  const float g = std::ceil(roi / static_cast<float>(pooled));  // torchvision's adaptive grid
  const float cap = static_cast<float>(roi_grid_cap(pooled, extent));
  if (!(g == g)) return 0;  // NaN (a non-finite box): no samples
  return static_cast<int>(std::min(std::max(g, -cap), cap));  // in range of int: the cast is defined
}

int64_t roi_grid_cap(int64_t pooled, int64_t extent) {
  // Samples fall in [-1, extent] or count for nothing: a box spanning that (extent + 2) plus one more bin's worth
  // gets exactly torchvision's grid; only larger boxes are capped.
  return std::min<int64_t>((extent + 2 + pooled - 1) / pooled + 1, int64_t{1} << 20);
}

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
  const int gh = a.sampling_ratio > 0 ? a.sampling_ratio : roi_grid(roi_h, a.out_h, a.h);
  const int gw = a.sampling_ratio > 0 ? a.sampling_ratio : roi_grid(roi_w, a.out_w, a.w);
  g.count = static_cast<float>(std::max(int64_t{gh} * gw, int64_t{1}));
  // Negative grids (only possible with aligned=true and inverted boxes) sample nothing, as upstream's loops do.
  g.grid_h = std::max(gh, 0);
  g.grid_w = std::max(gw, 0);
  return g;
}

float roi_sample_coord(float start, float bin, int p, int i, int grid) {
  return start + static_cast<float>(p) * bin + static_cast<float>(i + .5f) * bin / static_cast<float>(grid);
}

}  // namespace sam3::kernels

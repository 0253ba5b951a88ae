// sam3.cpp — the per-box geometry of RoIAlign (ops::roi_align), shared by the reference and the optimised kernel so
// that both place every sample at the same float32 coordinate (torchvision's expression order, no FMA).
// ref: torchvision/csrc/ops/cpu/roi_align_kernel.cpp (roi_align_forward_kernel_impl), roi_align_common.h
#pragma once
#include <cstdint>

namespace sam3::kernels {

// Raw-pointer form shared by both kernels: x[c,h,w], boxes[n,4], y[n,c,out_h,out_w].
struct RoiAlignArgs {
  const float* x = nullptr;
  int64_t c = 0, h = 0, w = 0;
  const float* boxes = nullptr;
  int64_t n = 0;
  float spatial_scale = 1.0f;
  int sampling_ratio = -1;
  bool aligned = false;
  int64_t out_h = 0, out_w = 0;
  float* y = nullptr;
};

// Geometry of one box, identical in both kernels (float32 arithmetic in torchvision's order).
struct RoiGeometry {
  float start_h = 0, start_w = 0, bin_h = 0, bin_w = 0;
  int grid_h = 0, grid_w = 0;  // samples per bin along each axis (>= 0)
  float count = 1;             // max(grid_h·grid_w, 1)
};
RoiGeometry roi_geometry(const RoiAlignArgs& a, int64_t box);
// Adaptive samples per bin along one axis (sampling_ratio <= 0): torchvision's ceil(roi / pooled), bounded by
// +-roi_grid_cap(pooled, extent) so that a huge box cannot ask for an unbounded grid (64 boxes [-1e6, 0, 1e6, 10]
// would want ~34 GB of taps) and the float->int conversion is always defined; 0 for a NaN extent. A box within the
// feature map (roi <= extent + 2) gets exactly torchvision's grid; a larger one samples its bins more sparsely than
// torchvision would (only its samples within [-1, extent] contribute anyway).
int roi_grid(float roi, int64_t pooled, int64_t extent);
int64_t roi_grid_cap(int64_t pooled, int64_t extent);
// Sample coordinate of sub-sample i in bin p along one axis (float32, torchvision's expression order, no FMA).
float roi_sample_coord(float start, float bin, int p, int i, int grid);

}  // namespace sam3::kernels

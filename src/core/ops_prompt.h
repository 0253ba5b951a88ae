// sam3.cpp — ops used by the prompt encoders (geometry encoder) that are not in core/ops.h: RoIAlign.
//
// Same contract as ops.h: the op checks shapes/dtypes (throwing sam3::Error) and dispatches to the optimised CPU
// kernel; the naive twin (double accumulation) is the oracle in tests/unit/test_roi_align.cpp.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace sam3::ops {

// torchvision.ops.roi_align on one image (batch 1), NCHW:
//   x[C,H,W] (or [1,C,H,W]), boxes[N,4] = (x1, y1, x2, y2) in input pixels (multiplied by spatial_scale),
//   y[N,C,out_h,out_w] (preallocated; out_h/out_w are read from its shape).
// Per box: start = box·scale − (aligned ? 0.5 : 0); size = end − start, floored at 1 when !aligned; bin = size/out;
// grid per bin = sampling_ratio > 0 ? sampling_ratio : ceil(size/out); each output is the mean of bilinear samples
// at start + p·bin + (i+0.5)·bin/grid (a sample with y < −1, y > H, x < −1 or x > W is 0; coordinates are clamped
// to [0, H−1] × [0, W−1]). Sample positions are computed in float32 exactly as torchvision's CPU kernel does.
// ref: torchvision/csrc/ops/cpu/roi_align_kernel.cpp, roi_align_common.h (spec §17.4)
void roi_align(const Tensor& x, const Tensor& boxes, float spatial_scale, int sampling_ratio, bool aligned, Tensor& y,
               int n_threads);

}  // namespace sam3::ops

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

namespace ref {
void roi_align(const RoiAlignArgs& a);
}  // namespace ref

namespace cpu {
void roi_align(const RoiAlignArgs& a, int n_threads);
}  // namespace cpu

// Geometry of one box, identical in both kernels (float32 arithmetic in torchvision's order).
struct RoiGeometry {
  float start_h = 0, start_w = 0, bin_h = 0, bin_w = 0;
  int grid_h = 0, grid_w = 0;  // samples per bin along each axis (>= 0)
  float count = 1;             // max(grid_h·grid_w, 1)
};
RoiGeometry roi_geometry(const RoiAlignArgs& a, int64_t box);
// Sample coordinate of sub-sample i in bin p along one axis (float32, torchvision's expression order, no FMA).
float roi_sample_coord(float start, float bin, int p, int i, int grid);

}  // namespace sam3::kernels

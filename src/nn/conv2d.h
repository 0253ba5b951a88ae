// sam3.cpp — torch.nn.Conv2d (square kernel, batch 1, NCHW without the batch dim) and torch.nn.ConvTranspose2d
// with kernel 2 / stride 2 (the only transposed convolution SAM 3 uses).
#pragma once
#include "core/context.h"
#include "core/tensor.h"
#include "nn/params.h"

namespace sam3::nn {

struct Conv2d {
  Tensor weight;  // [out, in, k, k]
  Tensor bias;    // [out] or undefined
  int64_t in_channels = 0, out_channels = 0;
  int kernel = 1, stride = 1, padding = 0;

  static Conv2d load(const ParamScope& p, int64_t in_channels, int64_t out_channels, int kernel, int stride,
                     int padding, bool has_bias = true);
  int64_t out_size(int64_t in_size) const { return (in_size + 2 * padding - kernel) / stride + 1; }
  // x [in, H, W] -> y [out, Ho, Wo] (preallocated).
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) const;
};

struct ConvTranspose2dK2S2 {
  Tensor weight;  // [in, out, 2, 2]
  Tensor bias;    // [out] or undefined
  int64_t in_channels = 0, out_channels = 0;

  static ConvTranspose2dK2S2 load(const ParamScope& p, int64_t in_channels, int64_t out_channels,
                                  bool has_bias = true);
  // x [in, H, W] -> y [out, 2H, 2W] (preallocated).
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) const;
};

}  // namespace sam3::nn

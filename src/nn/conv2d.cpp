#include "nn/conv2d.h"

#include "core/ops.h"

namespace sam3::nn {

Conv2d Conv2d::load(const ParamScope& p, int64_t in_channels, int64_t out_channels, int kernel, int stride,
                    int padding, bool has_bias) {
  Conv2d c;
  c.in_channels = in_channels;
  c.out_channels = out_channels;
  c.kernel = kernel;
  c.stride = stride;
  c.padding = padding;
  c.weight = p.get("weight", {out_channels, in_channels, kernel, kernel});
  if (has_bias) c.bias = p.get("bias", {out_channels});
  return c;
}

void Conv2d::forward(const Tensor& x, Tensor& y, const RunContext& ctx) const {
  ops::conv2d(x, weight, bias.defined() ? &bias : nullptr, stride, padding, y, ctx);
}

ConvTranspose2dK2S2 ConvTranspose2dK2S2::load(const ParamScope& p, int64_t in_channels, int64_t out_channels,
                                              bool has_bias) {
  ConvTranspose2dK2S2 c;
  c.in_channels = in_channels;
  c.out_channels = out_channels;
  c.weight = p.get("weight", {in_channels, out_channels, 2, 2});
  if (has_bias) c.bias = p.get("bias", {out_channels});
  return c;
}

void ConvTranspose2dK2S2::forward(const Tensor& x, Tensor& y, const RunContext& ctx) const {
  ops::conv_transpose2d_k2s2(x, weight, bias.defined() ? &bias : nullptr, y, ctx);
}

}  // namespace sam3::nn

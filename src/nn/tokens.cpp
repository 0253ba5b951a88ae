// sam3.cpp — feature maps <-> token sequences (see nn/tokens.h).
#include "nn/tokens.h"

#include "core/error.h"

namespace sam3::nn {

Tensor nchw_to_tokens(const Tensor& x) {
  Shape s = x.shape();
  while (s.size() > 3 && s.front() == 1) s.erase(s.begin());
  if (s.size() != 3) throw Error("nchw_to_tokens: expected [1,C,H,W] or [C,H,W], got " + shape_str(x.shape()));
  const int64_t c = s[0], hw = s[1] * s[2];
  Tensor t = Tensor::empty({hw, c});
  const float* src = x.f32();
  float* dst = t.f32();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < hw; ++i) dst[i * c + ch] = src[ch * hw + i];
  return t;
}

Tensor tokens_to_nchw(const Tensor& t, int64_t h, int64_t w) {
  const int64_t hw = h * w;
  if (hw <= 0 || t.numel() % hw != 0) throw Error("tokens_to_nchw: " + shape_str(t.shape()) + " is not H*W tokens");
  const int64_t c = t.numel() / hw;
  Tensor x = Tensor::empty({c, h, w});
  const float* src = t.f32();
  float* dst = x.f32();
  for (int64_t i = 0; i < hw; ++i)
    for (int64_t ch = 0; ch < c; ++ch) dst[ch * hw + i] = src[i * c + ch];
  return x;
}

}  // namespace sam3::nn

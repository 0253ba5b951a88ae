// sam3.cpp — feature maps <-> token sequences (see nn/tokens.h).
#include "nn/tokens.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"

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

void transpose_add(const float* src, const float* add, int64_t rows, int64_t cols, float* dst, int n_threads) {
  constexpr int64_t kTile = 32;  // 32x32 floats in, 32x32 out: 8 KB, well inside L1
  const int64_t tr = (rows + kTile - 1) / kTile, tc = (cols + kTile - 1) / kTile;
  parallel_for(n_threads, tr * tc, [&](int64_t t) {
    const int64_t r0 = (t / tc) * kTile, c0 = (t % tc) * kTile;
    const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
    for (int64_t c = c0; c < c1; ++c) {
      float* d = dst + c * rows;
      if (add)
        for (int64_t r = r0; r < r1; ++r) d[r] = src[r * cols + c] + add[r * cols + c];
      else
        for (int64_t r = r0; r < r1; ++r) d[r] = src[r * cols + c];
    }
  });
}

}  // namespace sam3::nn

// sam3.cpp — pre-processing (see io/preprocess.h).
// No floating-point contraction here: the normalisation x*(1/255) - 0.5 must round after the product, as torch does.
#include "core/strict_fp.h"  // no FMA contraction: see that header

#include "io/preprocess.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "core/ops.h"

namespace sam3 {

Tensor resize_image_u8(const ImageView& img, int64_t out_h, int64_t out_w, int n_threads) {
  if (!img.rgb || img.width <= 0 || img.height <= 0)
    throw Error("resize_image_u8: empty image (" + std::to_string(img.width) + "x" + std::to_string(img.height) + ")");
  if (out_h <= 0 || out_w <= 0)
    throw Error("resize_image_u8: bad output size " + std::to_string(out_h) + "x" + std::to_string(out_w));
  Tensor out = Tensor::empty({3, out_h, out_w}, DType::U8);
  uint8_t* dst = out.data<uint8_t>();
  if (img.height == out_h && img.width == out_w) {  // v2.Resize returns the image untouched
    const int64_t n = out_h * out_w;
    parallel_for(n_threads, 3, [&](int64_t c) {
      for (int64_t i = 0; i < n; ++i) dst[c * n + i] = img.rgb[i * 3 + c];
    });
    return out;
  }
  ops::U8Planes in;
  in.data = img.rgb;
  in.channels = 3;
  in.height = img.height;
  in.width = img.width;
  in.c_stride = 1;
  in.y_stride = static_cast<int64_t>(img.width) * 3;
  in.x_stride = 3;
  ops::resize_aa(in, out, RunContext{n_threads});
  return out;
}

Tensor normalize_image(const Tensor& chw_u8, int n_threads) {
  if (chw_u8.dtype() != DType::U8 || chw_u8.dim() != 3 || chw_u8.size(0) != 3)
    throw Error("normalize_image: expected U8 [3, H, W], got " + std::string(dtype_name(chw_u8.dtype())) + " " +
                shape_str(chw_u8.shape()));
  // ref: torchvision v2.ToDtype(float32, scale=True): x.float().mul_(1/255) (the scalar is a float32 in the op);
  //      v2.Normalize(mean=0.5, std=0.5): (x - 0.5) / 0.5. Only 256 inputs: tabulate.
  const float inv255 = static_cast<float>(1.0 / 255.0);
  float table[256];
  for (int v = 0; v < 256; ++v) {
    const float scaled = static_cast<float>(v) * inv255;
    table[v] = (scaled - 0.5f) / 0.5f;
  }
  Tensor out = Tensor::empty({1, 3, chw_u8.size(1), chw_u8.size(2)}, DType::F32);
  const uint8_t* src = chw_u8.data<uint8_t>();
  float* dst = out.f32();
  const int64_t n = chw_u8.numel();
  const int64_t chunk = 1 << 16;
  parallel_for(n_threads, (n + chunk - 1) / chunk, [&](int64_t k) {
    const int64_t e = std::min(n, (k + 1) * chunk);
    for (int64_t i = k * chunk; i < e; ++i) dst[i] = table[src[i]];
  });
  return out;
}

Tensor preprocess_image(const ImageView& img, int64_t resolution, int n_threads) {
  if (resolution <= 0) throw Error("preprocess_image: bad resolution " + std::to_string(resolution));
  return normalize_image(resize_image_u8(img, resolution, resolution, n_threads), n_threads);
}

Tensor resize_bilinear(const Tensor& maps, int64_t out_h, int64_t out_w, int n_threads) {
  if (out_h <= 0 || out_w <= 0)
    throw Error("resize_bilinear: bad output size " + std::to_string(out_h) + "x" + std::to_string(out_w));
  Tensor out = maps.dim() == 3 ? Tensor::empty({maps.size(0), out_h, out_w}, DType::F32)
                               : Tensor::empty({out_h, out_w}, DType::F32);
  ops::upsample_bilinear(maps, out, RunContext{n_threads});  // checks maps: F32 [n, h, w] or [h, w], non-empty
  return out;
}

}  // namespace sam3

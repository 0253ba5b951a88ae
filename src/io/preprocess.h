// sam3.cpp — image pre-processing exactly as the official processor, and the plain bilinear resize of float maps
// used to bring mask logits back to the original image size.
//
// ref: sam3/model/sam3_image_processor.py (Sam3Processor.__init__ transform, set_image, _forward_grounding):
//   v2.ToDtype(uint8) (no-op) -> v2.Resize((R, R)) (bilinear, antialias, squash: no aspect preservation; skipped when
//   the image is already R x R) -> v2.ToDtype(float32, scale=True) = x * float32(1/255) -> v2.Normalize(0.5, 0.5)
//   = (x - 0.5) / 0.5 -> unsqueeze(0). The arithmetic (bit-exact with the fixtures) is documented in
//   kernels/resize_taps.h.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "sam3/sam3.h"  // ImageView

namespace sam3 {

// Squash-resizes an RGB image (read in place through the view; an io Image converts to one) to out_h x out_w with
// the anti-aliased bilinear filter, rounded half-to-even: U8 [3, out_h, out_w] (CHW, what v2.Resize returns). A
// same-size image is copied (HWC -> CHW) unchanged. Throws sam3::Error on an empty view.
Tensor resize_image_u8(const ImageView& img, int64_t out_h, int64_t out_w, int n_threads);

// U8 [3, H, W] -> F32 [1, 3, H, W]: (x * float32(1/255) - 0.5) / 0.5, in float32 as torchvision computes it.
Tensor normalize_image(const Tensor& chw_u8, int n_threads);

// The whole pre-processing: RGB image -> model input F32 [1, 3, R, R] in [-1, 1].
Tensor preprocess_image(const ImageView& img, int64_t resolution, int n_threads);

// Plain bilinear resize (align_corners=False, no antialias) of n float maps: F32 [n, h, w] (or [h, w]) ->
// F32 [n, out_h, out_w] (or [out_h, out_w]); bit-exact with torch's CPU kernel (kernels/resize_taps.h). Into a
// preallocated output: ops::upsample_bilinear.
// ref: sam3/model/sam3_image_processor.py (_forward_grounding: interpolate(masks, (H, W), "bilinear"))
Tensor resize_bilinear(const Tensor& maps, int64_t out_h, int64_t out_w, int n_threads);

}  // namespace sam3

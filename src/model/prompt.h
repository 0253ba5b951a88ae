// sam3.cpp — the prompt every per-prompt module consumes, as Sam3Image._encode_prompt assembles it:
//
//   prompt      = [ text features (L=32, padding included) ; geometry tokens (N boxes, then CLS) ]   [L+N+1, 1, d]
//   prompt_mask = [ language mask (1 = pad)                ; geometry mask (all 0)             ]   [1, L+N+1] U8
// The text padding sits in the middle of the prompt and is excluded only through the mask; the prompt has no
// positional encoding. A box-only prompt uses the text "visual" (the caller tokenizes it).
// ref: sam3/model/sam3_image.py (Sam3Image._encode_prompt), sam3/model/sam3_image_processor.py
#pragma once
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "model/geometry_encoder.h"
#include "model/text_encoder.h"

namespace sam3 {

struct EncodedPrompt {
  Tensor tokens;  // [P, 1, d] F32, P = L + N + 1
  Tensor mask;    // [1, P] U8, 1 = padding
  std::shared_ptr<const TextFeatures> text;  // the (cached) text part
  GeometryFeatures geometry;
  bool text_cached = false;      // the text features came from the model's cache
  bool geometry_cached = false;  // the geometry tokens came from the image's cache (box-free prompts)
};

// Per-image work shared by every prompt on one image (the caller keeps one per image: the API's ImageState). The
// entries belong to the image level whose storage `img` / `pos` share: holding them keeps those addresses from being
// reused, so comparing data pointers identifies the image (only that level is kept alive, not the whole embedding).
struct ImagePromptCache {
  Tensor img, pos;  // the detector's image level and its position encoding the entries were computed from
  std::shared_ptr<const GeometryFeatures> no_box_geometry;  // the geometry tokens of a box-free prompt (CLS only)
  Tensor fusion_prefix;  // the fusion encoder's image-only start (FusionEncoder::image_prefix), [HW, d]
  std::vector<Tensor> pixel_terms;  // the pixel decoder's image-only half (SegmentationHead::image_terms)
  bool matches(const Tensor& i, const Tensor& p) const { return img.raw() == i.raw() && pos.raw() == p.raw(); }
  // Empties the cache when it was filled for another image; then it belongs to (i, p).
  void follow(const Tensor& i, const Tensor& p) {
    if (!matches(i, p)) *this = ImagePromptCache{i, p, nullptr, Tensor(), {}};
  }
  // The memory the entries hold (not counting img / pos, the embedding's own tensors).
  int64_t bytes() const;
};

// The concatenation above: text tokens then geometry tokens, the masks likewise.
EncodedPrompt assemble_prompt(std::shared_ptr<const TextFeatures> text, GeometryFeatures geometry);

}  // namespace sam3

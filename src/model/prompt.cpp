// sam3.cpp — prompt assembly. ref: sam3/model/sam3_image.py (Sam3Image._encode_prompt)
#include "model/prompt.h"

#include <cstring>
#include <utility>

#include "core/error.h"

namespace sam3 {

EncodedPrompt assemble_prompt(std::shared_ptr<const TextFeatures> text, GeometryFeatures geometry) {
  if (!text) throw Error("assemble_prompt: no text features");
  const Tensor& tf = text->features;
  const Tensor& gf = geometry.tokens;
  if (tf.dim() != 3 || gf.dim() != 3 || tf.size(1) != 1 || gf.size(1) != 1 || tf.size(2) != gf.size(2))
    throw Error("assemble_prompt: text features " + shape_str(tf.shape()) + " and geometry tokens " +
                shape_str(gf.shape()) + " must be [L, 1, d] and [G, 1, d]");
  const int64_t L = tf.size(0), G = gf.size(0), d = tf.size(2);
  check_tensor(text->mask, {1, L}, DType::U8, "assemble_prompt: language mask");
  check_tensor(geometry.mask, {1, G}, DType::U8, "assemble_prompt: geometry mask");
  EncodedPrompt p;
  p.tokens = Tensor::empty({L + G, 1, d});
  std::memcpy(p.tokens.f32(), tf.f32(), tf.nbytes());
  std::memcpy(p.tokens.f32() + L * d, gf.f32(), gf.nbytes());
  p.mask = Tensor::empty({1, L + G}, DType::U8);
  std::memcpy(p.mask.data<uint8_t>(), text->mask.data<uint8_t>(), static_cast<size_t>(L));
  std::memcpy(p.mask.data<uint8_t>() + L, geometry.mask.data<uint8_t>(), static_cast<size_t>(G));
  p.text = std::move(text);
  p.geometry = std::move(geometry);
  return p;
}

int64_t ImagePromptCache::bytes() const {
  int64_t n = static_cast<int64_t>(fusion_prefix.nbytes());
  if (no_box_geometry) n += static_cast<int64_t>(no_box_geometry->tokens.nbytes() + no_box_geometry->mask.nbytes());
  for (const Tensor& t : pixel_terms) n += static_cast<int64_t>(t.nbytes());
  return n;
}

}  // namespace sam3

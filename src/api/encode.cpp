// sam3.cpp — encoding an image: decode (files) -> pre-process (square resize + normalise, read straight from the
// caller's pixels) -> image encoder.
#include "api/internal.h"
#include "core/error.h"
#include "core/timer.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "io/preprocess.h"

namespace sam3 {

namespace {

ImageEmbedding encode_image(const Model& model, const ImageView& img, Arena& scratch, const EncodeParams& params) {
  if (!img.rgb || img.width <= 0 || img.height <= 0)
    throw Error("encode: the image is empty (" + std::to_string(img.width) + "x" + std::to_string(img.height) + ")");
  const auto t0 = Clock::now();
  const Tensor input = preprocess_image(img, model.input_size(), resolve_threads(params.n_threads));
  return encode_preprocessed(model, input, img.height, img.width, scratch, params, ms_since(t0));
}

}  // namespace

ImageEmbedding Model::encode(const ImageView& image, const EncodeParams& params) const {
  Arena scratch;
  return encode_image(*this, image, scratch, params);
}

ImageEmbedding Model::encode_file(const std::string& image_path, const EncodeParams& params) const {
  Arena scratch;
  return encode_image(*this, decode_image_file(image_path), scratch, params);
}

void ImageState::set_image(const ImageView& image, const EncodeParams& params) {
  impl_->embedding = encode_image(*impl_->model, image, impl_->scratch, params);
  impl_->pvs = nullptr;
  impl_->pick_click = nullptr;
}

}  // namespace sam3

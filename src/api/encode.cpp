// sam3.cpp — encoding an image: decode (files) -> pre-process (square resize + normalise) -> image encoder.
#include <chrono>
#include <cstring>

#include "api/internal.h"
#include "core/error.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "io/preprocess.h"

namespace sam3 {

namespace {

using Clock = std::chrono::steady_clock;

ImageEmbedding encode_image(const Model& model, const Image& img, Arena& scratch, const EncodeParams& params) {
  if (img.empty()) throw Error("encode: the image is empty");
  const auto t0 = Clock::now();
  const Tensor input = preprocess_image(img, model.input_size(), resolve_threads(params.n_threads));
  const double pre_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return encode_preprocessed(model, input, static_cast<int>(img.height), static_cast<int>(img.width), scratch, params,
                             pre_ms);
}

// The public view is borrowed; pre-processing reads an Image (one copy of the pixels, small next to the encoder).
Image to_image(const ImageView& v) {
  if (!v.rgb || v.width <= 0 || v.height <= 0) throw Error("encode: empty image view");
  Image img = Image::allocate(v.height, v.width);
  std::memcpy(img.pixels.data(), v.rgb, img.pixels.size());
  return img;
}

}  // namespace

ImageEmbedding Model::encode(const ImageView& image, const EncodeParams& params) const {
  Arena scratch;
  return encode_image(*this, to_image(image), scratch, params);
}

ImageEmbedding Model::encode_file(const std::string& image_path, const EncodeParams& params) const {
  Arena scratch;
  return encode_image(*this, decode_image_file(image_path), scratch, params);
}

void ImageState::set_image(const ImageView& image, const EncodeParams& params) {
  impl_->embedding = encode_image(*impl_->model, to_image(image), impl_->scratch, params);
}

}  // namespace sam3

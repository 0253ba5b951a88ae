// sam3.cpp — ImageState: one image's embedding plus reusable scratch memory (one thread at a time).
#include "api/internal.h"
#include "core/error.h"

namespace sam3 {

ImageState::ImageState(std::shared_ptr<const Model> model) : impl_(std::make_unique<Impl>()) {
  if (!model) throw Error("ImageState: no model");
  impl_->model = std::move(model);
}
ImageState::~ImageState() = default;
ImageState::ImageState(ImageState&&) noexcept = default;
ImageState& ImageState::operator=(ImageState&&) noexcept = default;
ImageState::Impl& ImageState::impl() { return *impl_; }
const Model& ImageState::model() const { return *impl_->model; }
bool ImageState::has_image() const { return !impl_->embedding.empty(); }
size_t ImageState::scratch_bytes() const { return impl_->scratch.capacity() + impl_->outputs.free_bytes(); }
size_t ImageState::pick_bytes() const {
  const bool own = impl_->pvs && !(has_image() && impl_->embedding.impl().features.pvs == impl_->pvs);
  return (own ? impl_->pvs->bytes() : 0) + (impl_->pick_click ? impl_->pick_click->bytes() : 0);
}
size_t ImageState::prompt_cache_bytes() const { return static_cast<size_t>(impl_->prompt_cache.bytes()); }
void ImageState::release_scratch() {
  impl_->scratch = Arena(0, Arena::Growth::Grow);
  impl_->outputs.clear();
}

const ImageEmbedding& ImageState::embedding() const {
  if (!has_image()) throw Error("ImageState: no image set (call set_image or set_embedding first)");
  return impl_->embedding;
}

void ImageState::set_embedding(const ImageEmbedding& embedding) {
  if (embedding.empty()) throw Error("ImageState::set_embedding: the embedding is empty");
  if (embedding.config_name() != impl_->model->config_name())
    throw Error("ImageState::set_embedding: embedding made with config '" + embedding.config_name() +
                "', the model's config is '" + impl_->model->config_name() + "'");
  impl_->embedding = embedding;
  impl_->prompt_cache = ImagePromptCache{};
  impl_->pvs = nullptr;
  impl_->pick_click = nullptr;
}

}  // namespace sam3

// sam3.cpp — ImageEmbedding: an immutable handle on ImageFeatures.
#include "api/internal.h"
#include "core/error.h"

namespace sam3 {

namespace {

FeatureMap feature_map(const Tensor& t) {
  FeatureMap f;
  f.data = t.f32();
  f.channels = static_cast<int>(t.size(1));
  f.height = static_cast<int>(t.size(2));
  f.width = static_cast<int>(t.size(3));
  return f;
}

}  // namespace

ImageEmbedding::ImageEmbedding() : impl_(std::make_shared<const Impl>()) {}
ImageEmbedding::ImageEmbedding(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {
  if (!impl_) throw Error("ImageEmbedding: null implementation");
}
const ImageEmbedding::Impl& ImageEmbedding::impl() const { return *impl_; }
bool ImageEmbedding::empty() const { return impl_->features.fpn.empty(); }
int ImageEmbedding::image_width() const { return static_cast<int>(impl().features.image_width); }
int ImageEmbedding::image_height() const { return static_cast<int>(impl().features.image_height); }
const std::string& ImageEmbedding::config_name() const { return impl().features.config_name; }
int ImageEmbedding::num_levels() const { return static_cast<int>(impl().features.fpn.size()); }
const EncodeTimings& ImageEmbedding::timings() const { return impl().timings; }
int64_t ImageEmbedding::pick_bytes() const {
  const ImageFeatures& f = impl().features;
  return static_cast<int64_t>((f.trunk.raw() ? f.trunk.nbytes() : 0) + (f.pvs ? f.pvs->bytes() : 0));
}

FeatureMap ImageEmbedding::level(int i) const {
  if (i < 0 || i >= num_levels()) throw Error("ImageEmbedding::level: index " + std::to_string(i) + " out of range");
  return feature_map(impl().features.fpn[static_cast<size_t>(i)]);
}

FeatureMap ImageEmbedding::pos_encoding(int i) const {
  if (i < 0 || i >= num_levels())
    throw Error("ImageEmbedding::pos_encoding: index " + std::to_string(i) + " out of range");
  return feature_map(impl().features.pos[static_cast<size_t>(i)]);
}

void ImageEmbedding::save(const std::string& path) const {
  if (empty()) throw Error("ImageEmbedding::save: the embedding is empty");
  save_image_features(path, impl().features);
}

}  // namespace sam3

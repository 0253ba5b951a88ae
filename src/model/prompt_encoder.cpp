// sam3.cpp — prompt assembly and the text-feature cache. ref: sam3/model/sam3_image.py (Sam3Image._encode_prompt)
#include "model/prompt_encoder.h"

#include <cstring>
#include <string>
#include <utility>

#include "core/error.h"

namespace sam3 {

// ---- TextFeatureCache -----------------------------------------------------------------------------------------

TextFeatureCache::TextFeatureCache(size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) throw Error("TextFeatureCache: capacity must be at least 1");
}

std::shared_ptr<const TextFeatures> TextFeatureCache::get_or_encode(const std::vector<int64_t>& ids,
                                                                    const std::function<TextFeatures()>& encode) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = entries_.find(ids);
    if (it == entries_.end()) break;
    if (it->second.value) {
      ++hits_;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.value;
    }
    ready_.wait(lock);  // another caller is encoding this text
  }
  ++misses_;
  lru_.push_front(ids);
  entries_.emplace(ids, Entry{nullptr, lru_.begin()});
  lock.unlock();

  std::shared_ptr<const TextFeatures> value;
  try {
    value = std::make_shared<const TextFeatures>(encode());
  } catch (...) {
    lock.lock();
    auto it = entries_.find(ids);
    if (it != entries_.end()) {
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
    ready_.notify_all();
    throw;
  }

  lock.lock();
  auto it = entries_.find(ids);
  if (it != entries_.end()) {
    it->second.value = value;
    evict_locked();
  }
  ready_.notify_all();
  return value;
}

void TextFeatureCache::evict_locked() {
  auto victim = lru_.end();
  while (entries_.size() > capacity_ && victim != lru_.begin()) {
    --victim;
    auto it = entries_.find(*victim);
    if (it->second.value) {  // never evict an entry that is still being encoded
      entries_.erase(it);
      victim = lru_.erase(victim);
    }
  }
}

size_t TextFeatureCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

size_t TextFeatureCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

size_t TextFeatureCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

void TextFeatureCache::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto e = entries_.find(*it);
    if (e->second.value) {
      entries_.erase(e);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- prompt assembly ------------------------------------------------------------------------------------------

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

// ---- PromptEncoder --------------------------------------------------------------------------------------------

PromptEncoder::PromptEncoder(const nn::ParamScope& root, const Config& cfg, size_t text_cache_capacity)
    : text_(root.sub("backbone").sub("language_backbone"), cfg),
      geometry_(root.sub("geometry_encoder"), cfg),
      cache_(std::make_unique<TextFeatureCache>(text_cache_capacity)) {}

std::shared_ptr<const TextFeatures> PromptEncoder::text_features(const std::vector<int64_t>& ids, int n_threads,
                                                                 Dumper* dump) const {
  return cache_->get_or_encode(ids, [&] { return text_.encode(ids, n_threads, dump); });
}

EncodedPrompt PromptEncoder::encode(const std::vector<int64_t>& ids, const std::vector<BoxPrompt>& boxes,
                                    const Tensor& img, const Tensor& pos, int n_threads, Dumper* dump) const {
  std::shared_ptr<const TextFeatures> text = text_features(ids, n_threads, dump);
  GeometryFeatures geo = geometry_.encode(boxes, img, pos, n_threads, dump);
  EncodedPrompt p = assemble_prompt(std::move(text), std::move(geo));
  if (dump && dump->enabled()) {
    dump->add("prompt.tokens", p.tokens);
    dump->add("prompt.mask", p.mask);
  }
  return p;
}

}  // namespace sam3

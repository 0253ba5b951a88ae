// sam3.cpp — text-feature cache (see text_feature_cache.h).
#include "model/text_feature_cache.h"

#include "core/error.h"

namespace sam3 {

TextFeatureCache::TextFeatureCache(size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) throw Error("TextFeatureCache: capacity must be at least 1");
}

std::shared_ptr<const TextFeatures> TextFeatureCache::get_or_encode(const std::vector<int64_t>& ids,
                                                                    const std::function<TextFeatures()>& encode,
                                                                    bool* hit) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = entries_.find(ids);
    if (it == entries_.end()) break;
    if (it->second.value) {
      ++hits_;
      if (hit) *hit = true;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.value;
    }
    ready_.wait(lock);  // another caller is encoding this text
  }
  ++misses_;
  if (hit) *hit = false;
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

}  // namespace sam3

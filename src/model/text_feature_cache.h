// sam3.cpp — the per-model cache of text features: a text is encoded once and reused by every prompt and image.
// ref: sam3/model/sam3_image_processor.py (the processor encodes each prompt's text; caching it is ours)
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "model/text_encoder.h"

namespace sam3 {

// Bounded LRU cache of text features keyed by token ids (two strings that tokenize alike share an entry).
// Thread-safe. A text is encoded once even when several threads ask for it at the same moment: the first caller
// encodes (outside the lock), the others wait for its result. A failed encode is not cached: its caller gets the
// error and a waiting caller retries. Evicted entries stay valid for whoever still holds them.
class TextFeatureCache {
 public:
  explicit TextFeatureCache(size_t capacity = 64);  // capacity >= 1 entries

  // The features of `ids`, encoded by `encode` on a miss. `hit` (optional) tells whether they came from the cache.
  std::shared_ptr<const TextFeatures> get_or_encode(const std::vector<int64_t>& ids,
                                                    const std::function<TextFeatures()>& encode, bool* hit = nullptr);

  size_t size() const;
  size_t capacity() const { return capacity_; }
  size_t hits() const;
  size_t misses() const;

 private:
  struct Entry {
    std::shared_ptr<const TextFeatures> value;  // null while being encoded
    std::list<std::vector<int64_t>>::iterator lru;
  };
  void evict_locked();

  size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::map<std::vector<int64_t>, Entry> entries_;
  std::list<std::vector<int64_t>> lru_;  // front = most recently used
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace sam3

// sam3.cpp — prompt assembly (spec §9) and the per-model text-feature cache.
//
//   prompt      = [ text features (L=32, padding included) ; geometry tokens (N boxes, then CLS) ]   [L+N+1, 1, d]
//   prompt_mask = [ language mask (1 = pad)                ; geometry mask (all 0)             ]   [1, L+N+1] U8
// The text padding sits in the middle of the prompt and is excluded only through the mask; the prompt has no
// positional encoding. A box-only prompt uses the text "visual" (the caller tokenizes it: spec §2).
// ref: sam3/model/sam3_image.py (Sam3Image._encode_prompt), sam3/model/sam3_image_processor.py
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/dump.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/geometry_encoder.h"
#include "model/text_encoder.h"
#include "nn/params.h"

namespace sam3 {

// Bounded LRU cache of text features keyed by token ids (two strings that tokenize alike share an entry).
// Thread-safe. A text is encoded once even when several threads ask for it at the same moment: the first caller
// encodes (outside the lock), the others wait for its result. A failed encode is not cached: its caller gets the
// error and a waiting caller retries. Evicted entries stay valid for whoever still holds them.
class TextFeatureCache {
 public:
  explicit TextFeatureCache(size_t capacity = 64);  // capacity >= 1 entries

  std::shared_ptr<const TextFeatures> get_or_encode(const std::vector<int64_t>& ids,
                                                    const std::function<TextFeatures()>& encode);

  size_t size() const;
  size_t capacity() const { return capacity_; }
  size_t hits() const;
  size_t misses() const;
  void clear();

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

struct EncodedPrompt {
  Tensor tokens;  // [P, 1, d] F32, P = L + N + 1
  Tensor mask;    // [1, P] U8, 1 = padding
  std::shared_ptr<const TextFeatures> text;  // the (cached) text part
  GeometryFeatures geometry;
};

// Text encoder + geometry encoder + the text cache, built from the model's (prefix-stripped) state dict.
class PromptEncoder {
 public:
  PromptEncoder(const nn::ParamScope& root, const Config& cfg, size_t text_cache_capacity = 64);

  // Cached: each distinct id sequence is encoded once per PromptEncoder (dumps only on a cache miss).
  std::shared_ptr<const TextFeatures> text_features(const std::vector<int64_t>& ids, int n_threads,
                                                    Dumper* dump = nullptr) const;

  // ids: the tokenized text (context_length ids); boxes in insertion order; img/pos: the detector image level
  // [1, d, H, W] and its sine encoding. Thread-safe. With a dumper, records text.*, geo.*, prompt.tokens/mask.
  EncodedPrompt encode(const std::vector<int64_t>& ids, const std::vector<BoxPrompt>& boxes, const Tensor& img,
                       const Tensor& pos, int n_threads, Dumper* dump = nullptr) const;

  const TextEncoder& text_encoder() const { return text_; }
  const GeometryEncoder& geometry_encoder() const { return geometry_; }
  const TextFeatureCache& text_cache() const { return *cache_; }

 private:
  TextEncoder text_;
  GeometryEncoder geometry_;
  std::unique_ptr<TextFeatureCache> cache_;  // internally synchronised; the model stays logically immutable
};

// The concatenation of spec §9 (exposed for tests and for callers that encode the parts themselves).
EncodedPrompt assemble_prompt(std::shared_ptr<const TextFeatures> text, GeometryFeatures geometry);

}  // namespace sam3

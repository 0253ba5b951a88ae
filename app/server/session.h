// sam3.cpp — one server session: an uploaded image, its embedding once the worker has encoded it, and the raw
// outputs of the last prompts run on it (so a new threshold is answered without running the model).
//
// Threads: the ImageState is touched only by the inference worker. Status, progress and the prompt cache are
// guarded by the session's mutex and may be read from any thread.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sam3/sam3.h"

namespace sam3::server {

enum class SessionStatus { Encoding, Ready, Failed };
const char* status_name(SessionStatus s);  // "encoding", "ready", "failed"

// Bytes of an embedding's own feature maps (position encodings are shared by the model and not counted).
int64_t embedding_bytes(const ImageEmbedding& e);

class Session {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxCachedPrompts = 8;  // raw results kept per session (least recently used dropped)
  static constexpr size_t kMaxPicks = 16;         // picks whose low-res logits are kept for refinement (LRU)

  // `reserved_bytes`: memory counted while the image waits to be encoded (its pixels, or the embedding it will
  // become if that is larger), so that finishing the encode never takes the sessions over their budget.
  Session(std::string id, int width, int height, int64_t reserved_bytes);

  const std::string id;
  const int width, height;
  const Clock::time_point created = Clock::now();
  std::string owner;  // the client that created it (remote address; set once by the store, before it is shared)

  struct Snapshot {
    SessionStatus status = SessionStatus::Encoding;
    bool started = false;   // the worker has begun encoding (false: still queued)
    float progress = 0;     // fraction of the encoder done, [0, 1]
    std::string error;      // why encoding failed
    EncodeTimings timings;  // of the encode, once ready
    double queue_ms = 0;    // time the encode waited for the worker
    int64_t memory_bytes = 0;
    size_t cached_prompts = 0;
  };
  Snapshot snapshot() const;
  SessionStatus status() const;
  int64_t memory_bytes() const;

  // Worker side of encoding (set_ready through SessionStore::set_ready, which re-applies the limits).
  void set_started(double queue_ms);
  void set_progress(float fraction);
  void set_ready(ImageState state);  // takes the encoded state; the reservation is replaced by the embedding
  void set_failed(const std::string& error);
  ImageState& state();  // worker thread only; throws unless ready

  // Deleted or evicted: tasks still queued for it skip it.
  void close() { closed_.store(true); }
  bool closed() const { return closed_.load(); }

  // The raw result kept for a prompt key (null if none); marks it recently used.
  std::shared_ptr<const PromptResult> cached(const std::string& key);
  // What is kept of a result: everything but the instance masks (rethreshold() recomputes them from the raw
  // outputs). Made outside any lock; insert_cached (through SessionStore::keep_result) stores it.
  static std::shared_ptr<const PromptResult> cache_entry(const PromptResult& r);
  void insert_cached(const std::string& key, std::shared_ptr<const PromptResult> entry);
  // Drops cached results, least recently used first (the newest one always stays), until the session's memory
  // is <= max_bytes or only one is left.
  void shrink_cache(int64_t max_bytes);

  // Picks (POST .../pick): the low-res logits of each returned mask, kept under a new pick id for "mask_from"
  // (the kMaxPicks most recently used). `feature_bytes`: what the ImageState now holds for picks
  // (ImageState::pick_bytes), counted in the session's memory.
  std::string insert_pick(const PickResult& r, int64_t feature_bytes);
  // What the ImageState keeps for the prompts on its image (ImageState::prompt_cache_bytes), counted in the
  // session's memory.
  void set_prompt_cache_bytes(int64_t bytes);
  // The logits of mask `index` (-1: the best) of pick `id`, marking it recently used; false when the session does
  // not have it (never made here, or dropped); `n_masks` gets that pick's mask count when found.
  bool pick_logits(const std::string& pick_id, int index, std::vector<float>* logits, int* n_masks);
 private:
  int64_t total_bytes_locked() const;  // memory_bytes() with mu_ held
  struct Entry {
    std::string key;
    std::shared_ptr<const PromptResult> result;
    int64_t bytes = 0;
  };
  mutable std::mutex mu_;
  std::atomic<bool> closed_{false};
  Snapshot snap_;
  int64_t reserved_bytes_ = 0;  // counted until the encode ends
  int64_t embedding_bytes_ = 0;
  int64_t cache_bytes_ = 0;
  std::list<Entry> cache_;      // most recently used first
  struct PickEntry {
    std::string id;
    std::vector<std::vector<float>> logits;  // per mask
    int best = 0;
    int64_t bytes = 0;
  };
  std::list<PickEntry> picks_;  // most recently used first
  int64_t pick_bytes_ = 0, pick_feature_bytes_ = 0;
  int64_t prompt_cache_bytes_ = 0;
  uint64_t next_pick_ = 1;
  std::optional<ImageState> state_;
};

}  // namespace sam3::server

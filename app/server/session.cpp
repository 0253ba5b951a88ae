// sam3.cpp — server session: status, memory accounting and the per-prompt raw-result cache.
#include "session.h"

#include <algorithm>
#include <stdexcept>

namespace sam3::server {

const char* status_name(SessionStatus s) {
  switch (s) {
    case SessionStatus::Encoding: return "encoding";
    case SessionStatus::Ready: return "ready";
    case SessionStatus::Failed: return "failed";
  }
  return "?";
}

int64_t embedding_bytes(const ImageEmbedding& e) {
  int64_t n = 0;
  for (int i = 0; i < e.num_levels(); ++i) {
    const FeatureMap f = e.level(i);
    n += static_cast<int64_t>(f.channels) * f.height * f.width * static_cast<int64_t>(sizeof(float));
  }
  return n;
}

Session::Session(std::string id_, int width_, int height_, int64_t reserved_bytes)
    : id(std::move(id_)), width(width_), height(height_), reserved_bytes_(reserved_bytes) {}

Session::Snapshot Session::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  Snapshot s = snap_;
  s.memory_bytes = total_bytes_locked();
  s.cached_prompts = cache_.size();
  return s;
}

SessionStatus Session::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snap_.status;
}

int64_t Session::total_bytes_locked() const {
  return reserved_bytes_ + embedding_bytes_ + cache_bytes_ + pick_bytes_ + pick_feature_bytes_ + prompt_cache_bytes_;
}

int64_t Session::memory_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_bytes_locked();
}

void Session::set_started(double queue_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  snap_.started = true;
  snap_.queue_ms = queue_ms;
}

void Session::set_progress(float fraction) {
  std::lock_guard<std::mutex> lock(mu_);
  snap_.progress = fraction;
}

void Session::set_ready(ImageState state) {
  const int64_t bytes = embedding_bytes(state.embedding()) + state.embedding().pick_bytes();
  const EncodeTimings timings = state.embedding().timings();
  std::lock_guard<std::mutex> lock(mu_);
  state_.emplace(std::move(state));
  embedding_bytes_ = bytes;
  reserved_bytes_ = 0;
  snap_.status = SessionStatus::Ready;
  snap_.progress = 1;
  snap_.timings = timings;
}

void Session::set_failed(const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  reserved_bytes_ = 0;
  snap_.status = SessionStatus::Failed;
  snap_.error = error;
}

ImageState& Session::state() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!state_) throw std::logic_error("session " + id + " has no encoded image");
  return *state_;  // the optional is set once and never reset, so the reference stays valid
}

std::shared_ptr<const PromptResult> Session::cached(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->key == key) {
      cache_.splice(cache_.begin(), cache_, it);
      return cache_.front().result;
    }
  }
  return nullptr;
}

std::shared_ptr<const PromptResult> Session::cache_entry(const PromptResult& r) {
  auto kept = std::make_shared<PromptResult>();
  kept->prompt = r.prompt;
  kept->text_used = r.text_used;
  kept->text_cached = r.text_cached;
  kept->threshold = r.threshold;
  kept->image_width = r.image_width;
  kept->image_height = r.image_height;
  kept->instances.reserve(r.instances.size());
  for (const Instance& in : r.instances) {
    Instance x;
    x.query = in.query;
    x.score = in.score;
    std::copy(in.box, in.box + 4, x.box);
    kept->instances.push_back(std::move(x));
  }
  kept->semantic = r.semantic;
  kept->probs = r.probs;
  kept->timings = r.timings;
  kept->outputs = r.outputs;
  return kept;
}

void Session::insert_cached(const std::string& key, std::shared_ptr<const PromptResult> entry) {
  const int64_t bytes = result_memory_bytes(*entry);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->key == key) {
      cache_bytes_ -= it->bytes;
      cache_.erase(it);
      break;
    }
  }
  cache_.push_front(Entry{key, std::move(entry), bytes});
  cache_bytes_ += bytes;
  while (cache_.size() > kMaxCachedPrompts) {
    cache_bytes_ -= cache_.back().bytes;
    cache_.pop_back();
  }
}

void Session::shrink_cache(int64_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  while (cache_.size() > 1 && total_bytes_locked() > max_bytes) {
    cache_bytes_ -= cache_.back().bytes;
    cache_.pop_back();
  }
}

std::string Session::insert_pick(const PickResult& r, int64_t feature_bytes) {
  PickEntry e;
  e.best = r.best();
  for (const PickMask& m : r.masks) {
    e.logits.push_back(m.low_res_logits);
    e.bytes += static_cast<int64_t>(m.low_res_logits.size() * sizeof(float));
  }
  std::lock_guard<std::mutex> lock(mu_);
  e.id = "pick-" + std::to_string(next_pick_++);
  const std::string pick_id = e.id;
  pick_bytes_ += e.bytes;
  picks_.push_front(std::move(e));
  while (picks_.size() > kMaxPicks) {
    pick_bytes_ -= picks_.back().bytes;
    picks_.pop_back();
  }
  pick_feature_bytes_ = feature_bytes;
  return pick_id;
}

void Session::set_prompt_cache_bytes(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  prompt_cache_bytes_ = bytes;
}

bool Session::pick_logits(const std::string& pick_id, int index, std::vector<float>* logits, int* n_masks) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = picks_.begin(); it != picks_.end(); ++it) {
    if (it->id != pick_id) continue;
    picks_.splice(picks_.begin(), picks_, it);
    const PickEntry& e = picks_.front();
    *n_masks = static_cast<int>(e.logits.size());
    const int k = index < 0 ? e.best : index;
    if (k >= *n_masks) return true;  // found, but no such mask: the caller reports it (logits left empty)
    *logits = e.logits[static_cast<size_t>(k)];
    return true;
  }
  return false;
}

}  // namespace sam3::server

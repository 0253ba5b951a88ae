// sam3.cpp — sessions with least-recently-used eviction by count and memory.
#include "session_store.h"

#include <algorithm>
#include <cstdio>

#include "session_id.h"

namespace sam3::server {

namespace {

constexpr size_t kRecentlyEvicted = 1024;  // ids remembered to say "evicted" rather than "unknown"

}  // namespace

SessionStore::SessionStore(size_t max_sessions, int64_t max_bytes)
    : max_sessions_(max_sessions), max_bytes_(max_bytes) {}

std::string SessionStore::new_id_locked() {
  for (;;) {
    std::string id = random_session_id();
    if (!by_id_.count(id)) return id;
  }
}

int64_t SessionStore::total_bytes_locked() const {
  int64_t n = 0;
  for (const auto& s : lru_) n += s->memory_bytes();
  return n;
}

void SessionStore::evict_one_locked(List::iterator it) {
  std::shared_ptr<Session> s = *it;
  s->close();
  by_id_.erase(s->id);
  lru_.erase(it);
  recently_evicted_.push_back(s->id);
  if (recently_evicted_.size() > kRecentlyEvicted) recently_evicted_.pop_front();
  ++evicted_;
}

bool SessionStore::evict_locked(size_t max_count, int64_t extra_bytes, const Session* keep) {
  int64_t total = total_bytes_locked();
  auto over = [&] { return lru_.size() > max_count || total + extra_bytes > max_bytes_; };
  // Walk from the least recently used end, evicting idle sessions until within the limits.
  for (auto it = lru_.end(); over() && it != lru_.begin();) {
    --it;
    if (it->get() == keep || (*it)->status() == SessionStatus::Encoding) continue;
    total -= (*it)->memory_bytes();
    auto victim = it++;  // `it` moves to the next more-recent element; the loop's --it steps back past it
    evict_one_locked(victim);
  }
  return !over();
}

std::shared_ptr<Session> SessionStore::create(int width, int height, int64_t reserved_bytes) {
  std::string unused;
  return create(width, height, reserved_bytes, ClientQuota{}, &unused);
}

std::shared_ptr<Session> SessionStore::create(int width, int height, int64_t reserved_bytes, const ClientQuota& quota,
                                              std::string* over_quota) {
  std::lock_guard<std::mutex> lock(mu_);
  if (quota.max_sessions || quota.max_encoding) {
    size_t held = 0, encoding = 0;
    for (const auto& s : lru_) {
      if (s->owner != quota.client) continue;
      ++held;
      encoding += s->status() == SessionStatus::Encoding;
    }
    if (quota.max_sessions && held >= quota.max_sessions) {
      *over_quota = "this client already holds " + std::to_string(held) + " sessions (--max-sessions-per-client " +
                    std::to_string(quota.max_sessions) + "); delete one first";
      return nullptr;
    }
    if (quota.max_encoding && encoding >= quota.max_encoding) {
      *over_quota = "this client already has " + std::to_string(encoding) + " images being encoded "
                    "(--max-encodes-per-client " + std::to_string(quota.max_encoding) + "); retry when they are ready";
      return nullptr;
    }
  }
  // Room for one more session and its pixels. A lone session larger than the whole budget is still accepted.
  if (!evict_locked(max_sessions_ - 1, lru_.empty() ? 0 : reserved_bytes, nullptr)) {
    if (lru_.size() >= max_sessions_) return nullptr;  // every session is still encoding
    // Memory cannot be freed by evicting idle sessions: accept only if nothing else holds memory.
    if (total_bytes_locked() > 0) return nullptr;
  }
  auto s = std::make_shared<Session>(new_id_locked(), width, height, reserved_bytes);
  s->owner = quota.client;
  lru_.push_front(s);
  by_id_[s->id] = lru_.begin();
  return s;
}

std::shared_ptr<Session> SessionStore::find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return lru_.front();
}

bool SessionStore::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  (*it->second)->close();
  lru_.erase(it->second);
  by_id_.erase(it);
  return true;
}

void SessionStore::fit_locked(Session& grown) {
  if (evict_locked(max_sessions_, 0, &grown)) return;
  const int64_t others = total_bytes_locked() - grown.memory_bytes();
  grown.shrink_cache(max_bytes_ - others);
}

void SessionStore::set_ready(Session& s, ImageState state) {
  std::lock_guard<std::mutex> lock(mu_);
  s.set_ready(std::move(state));
  fit_locked(s);
}

void SessionStore::keep_result(Session& s, const std::string& key, std::shared_ptr<const PromptResult> entry) {
  std::lock_guard<std::mutex> lock(mu_);
  s.insert_cached(key, std::move(entry));
  fit_locked(s);
}

std::string SessionStore::keep_pick(Session& s, const PickResult& r, int64_t feature_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = s.insert_pick(r, feature_bytes);
  fit_locked(s);
  return id;
}

void SessionStore::keep_prompt_cache(Session& s, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  s.set_prompt_cache_bytes(bytes);
  fit_locked(s);
}

bool SessionStore::was_evicted(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::find(recently_evicted_.begin(), recently_evicted_.end(), id) != recently_evicted_.end();
}

SessionStore::Stats SessionStore::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Stats{lru_.size(), total_bytes_locked(), evicted_};
}

}  // namespace sam3::server

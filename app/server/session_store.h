// sam3.cpp — the server's sessions, bounded by count and by memory: beyond either limit the least recently used
// idle session (ready or failed) is evicted. A session still being encoded is never evicted (its encode is work
// already accepted); if only such sessions stand in the way, a new session is refused (the caller answers 503).
#pragma once
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "session.h"

namespace sam3::server {

// Per-client limits (--max-sessions-per-client, --max-encodes-per-client): a client is the remote address; 0: no limit.
struct ClientQuota {
  std::string client;
  size_t max_sessions = 0;  // sessions the client holds
  size_t max_encoding = 0;  // of them, still waiting for or in their encode
};

class SessionStore {
 public:
  SessionStore(size_t max_sessions, int64_t max_bytes);

  // A new session (status encoding) reserving `reserved_bytes`, after evicting what the limits require; null when
  // the limits cannot be met without evicting a session that is still encoding.
  std::shared_ptr<Session> create(int width, int height, int64_t reserved_bytes);
  // The same for a client with limits: null with `over_quota` set to the reason when the client is at a limit
  // (nothing is evicted then).
  std::shared_ptr<Session> create(int width, int height, int64_t reserved_bytes, const ClientQuota& quota,
                                  std::string* over_quota);
  // The session, marked most recently used; null if unknown.
  std::shared_ptr<Session> find(const std::string& id);
  // Removes (and closes) a session; false if unknown.
  bool remove(const std::string& id);
  // Memory changes of a session, made under the store's lock together with the eviction they call for, so that
  // the sessions never take more than the budget (unless one session alone does): `s` is never the one evicted;
  // other idle sessions go first, then `s`'s own older cached results.
  void set_ready(Session& s, ImageState state);
  void keep_result(Session& s, const std::string& key, std::shared_ptr<const PromptResult> entry);
  // Keeps a pick's logits in the session (Session::insert_pick) and re-applies the limits; returns the pick id.
  std::string keep_pick(Session& s, const PickResult& r, int64_t feature_bytes);
  // Counts what s's ImageState now keeps for its prompts (ImageState::prompt_cache_bytes), then fits as above.
  void keep_prompt_cache(Session& s, int64_t bytes);
  // True if `id` was evicted recently (for a helpful 404 message).
  bool was_evicted(const std::string& id) const;

  struct Stats {
    size_t count = 0;
    int64_t memory_bytes = 0;
    size_t evicted = 0;  // since start
  };
  Stats stats() const;
  size_t max_sessions() const { return max_sessions_; }
  int64_t max_bytes() const { return max_bytes_; }

 private:
  using List = std::list<std::shared_ptr<Session>>;  // most recently used first
  int64_t total_bytes_locked() const;
  // Evicts idle sessions from the LRU end (never `keep`) until the session count is <= max_count and the memory
  // is <= max_bytes_ + extra_bytes; false if that is impossible.
  bool evict_locked(size_t max_count, int64_t extra_bytes, const Session* keep);
  void fit_locked(Session& grown);
  void evict_one_locked(List::iterator it);
  std::string new_id_locked();  // random_session_id(), unused so far

  const size_t max_sessions_;
  const int64_t max_bytes_;
  mutable std::mutex mu_;
  List lru_;
  std::unordered_map<std::string, List::iterator> by_id_;
  std::deque<std::string> recently_evicted_;  // bounded
  size_t evicted_ = 0;
};

}  // namespace sam3::server

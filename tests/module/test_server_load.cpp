// sam3.cpp — `sam3 serve` under load: 16 concurrent clients create sessions, prompt (fresh and re-thresholded),
// delete and run one-shot requests for a bounded time (SAM3_LOAD_SECONDS, default 20) against a server with small
// limits (so that its queue fills and sessions are evicted). Checked: every request is answered with 2xx or 503 (or
// 404 for a session the server says it evicted); /health, polled throughout, never shows the sessions over their
// memory budget or count; every result equals the one computed sequentially before the load; the server is alive
// and exits cleanly at the end. Prints requests/s, the 503 count and the server's peak RSS.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>

#include "server_harness.h"

namespace sam3::test {
namespace {

constexpr int kClients = 16;
constexpr int64_t kSessionMemoryMiB = 12;  // ~7 tiny embeddings: eviction by memory and by count both happen
constexpr int kMaxSessions = 6;

double load_seconds() {
  const char* env = std::getenv("SAM3_LOAD_SECONDS");
  return env && *env ? std::atof(env) : 20.0;
}

// The prompts every client sends (valid boxes on both images).
Json request(double threshold) {
  const Json pos = {{"box", {100, 120, 300, 400}}, {"label", true}};
  const Json neg = {{"box", {400, 50, 600, 200}}, {"label", false}};
  return Json{{"prompts", Json::array({Json{{"text", "banana"}}, Json{{"text", "child"}, {"boxes", {pos, neg}}}})},
              {"threshold", threshold}};
}

struct Tally {
  std::atomic<int64_t> requests{0}, ok{0}, busy{0}, evicted{0}, unexpected{0}, compared{0}, mismatched{0};
  std::mutex mu;
  std::map<std::string, int> unexpected_examples;  // "METHOD path -> status: body" (first few)

  // Records one answer; true if it is a success (2xx).
  bool record(const char* what, const httplib::Result& r) {
    ++requests;
    if (r && r->status >= 200 && r->status < 300) {
      ++ok;
      return true;
    }
    if (r && r->status == 503) {
      ++busy;
      return false;
    }
    if (r && r->status == 404 && r->body.find("evicted") != std::string::npos) {
      ++evicted;
      return false;
    }
    ++unexpected;
    std::lock_guard<std::mutex> lock(mu);
    if (unexpected_examples.size() < 8)
      unexpected_examples[std::string(what) + " -> " +
                          (r ? std::to_string(r->status) + ": " + r->body.substr(0, 200)
                             : "connection error " + std::to_string(static_cast<int>(r.error())))]++;
    return false;
  }
};

TEST(ServerLoad, ConcurrentClientsWithinLimitsAndDeterministic) {
  // glibc keeps freed memory in per-thread arenas; with one arena that returns everything it can, the resident
  // memory after the load must come back near where it started, so that a leak shows.
  ServerProcess server({"--threads", "1", "--http-threads", "32", "--queue-size", "4", "--max-sessions",
                        std::to_string(kMaxSessions), "--max-session-memory", std::to_string(kSessionMemoryMiB)},
                       {"MALLOC_ARENA_MAX=1", "MALLOC_TRIM_THRESHOLD_=0"});
  const std::vector<std::string> images = {read_bytes(golden_path("images/groceries.jpg")),
                                           read_bytes(golden_path("images/test_image.jpg"))};
  const double thresholds[2] = {0.3, 0.4};

  // Sequential reference: one session per image, both thresholds, nothing else running.
  Json reference[2][2];
  {
    httplib::Client c = server.client();
    for (int i = 0; i < 2; ++i) {
      auto r = create_session(c, images[static_cast<size_t>(i)]);
      ASSERT_TRUE(r && r->status == 201);
      const std::string id = body_json(r)["session_id"];
      ASSERT_EQ(wait_ready(c, id)["status"], "ready");
      for (int t = 0; t < 2; ++t) {
        r = post_json(c, "/v1/sessions/" + id + "/segment", request(thresholds[t]));
        ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
        reference[i][t] = stable_result(body_json(r));
      }
      ASSERT_EQ(c.Delete(("/v1/sessions/" + id).c_str())->status, 200);
    }
    size_t n = 0;
    for (const Json& p : reference[0][0]["prompts"]) n += p["instances"].size();
    ASSERT_GT(n, 0u) << "the reference keeps no instance: the comparison would be weak";
  }

  int64_t rss_before = 0;  // after the reference run: model, text cache, allocator warmed up
  {
    httplib::Client c = server.client();
    rss_before = body_json(c.Get("/health"))["memory"]["rss_bytes"].get<int64_t>();
  }

  Tally tally;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> memory_violations{0}, count_violations{0}, health_polls{0}, max_queue{0};
  auto compare = [&](const httplib::Result& r, int image, int t) {
    ++tally.compared;
    if (stable_result(body_json(r)) != reference[image][t]) ++tally.mismatched;
  };

  // /health throughout: the sessions stay within their budget and count.
  std::thread monitor([&] {
    httplib::Client c = server.client();
    while (!stop.load()) {
      auto r = c.Get("/health");
      if (r && r->status == 200) {
        const Json h = body_json(r);
        ++health_polls;
        if (h["sessions"]["memory_bytes"].get<int64_t>() > h["sessions"]["max_memory_bytes"].get<int64_t>())
          ++memory_violations;
        if (h["sessions"]["count"].get<int64_t>() > kMaxSessions) ++count_violations;
        max_queue = std::max<int64_t>(max_queue.load(), h["queue"]["length"].get<int64_t>());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(load_seconds());
  // On a slow or busy machine the clients go on (at most 40 s more) until enough results were compared.
  auto running = [&] {
    const auto now = std::chrono::steady_clock::now();
    return now < deadline || (tally.compared.load() < 2 * kClients && now < deadline + std::chrono::seconds(40));
  };
  std::vector<std::thread> clients;
  for (int k = 0; k < kClients; ++k) {
    clients.emplace_back([&, k] {
      std::mt19937 rng(static_cast<unsigned>(k));
      httplib::Client c = server.client();
      while (running()) {
        const int image = static_cast<int>(rng() % 2);
        if (k % 8 == 7) {  // a one-shot request now and then
          httplib::MultipartFormDataItems items = {{"image", images[static_cast<size_t>(image)], "i.jpg", "image/jpeg"},
                                                   {"request", request(thresholds[0]).dump(), "", ""}};
          auto r = c.Post("/v1/segment", items);
          if (tally.record("POST /v1/segment", r)) compare(r, image, 0);
          continue;
        }
        auto r = create_session(c, images[static_cast<size_t>(image)]);
        if (!tally.record("POST /v1/sessions", r)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));  // 503: back off
          continue;
        }
        const std::string id = body_json(r)["session_id"];
        const std::string path = "/v1/sessions/" + id;
        bool ready = false;
        while (std::chrono::steady_clock::now() < deadline + std::chrono::seconds(30)) {
          r = c.Get(path.c_str());
          if (!tally.record("GET session", r)) break;
          const std::string st = body_json(r)["status"];
          if (st != "encoding") {
            ready = st == "ready";
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        for (int t = 0; ready && t < 2; ++t) {  // fresh at 0.3, then re-thresholded from the cache at 0.4
          for (;;) {  // retried after a 503 (queue full), like a client would
            r = post_json(c, path + "/segment", request(thresholds[t]));
            if (tally.record("POST segment", r)) compare(r, image, t);
            if (!r || r->status != 503 || !running()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }
        tally.record("DELETE session", c.Delete(path.c_str()));
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  monitor.join();
  int64_t rss_after = 0, sessions_after = 0;  // what is left once the clients are gone
  {
    httplib::Client c = server.client();
    const Json h = body_json(c.Get("/health"));
    if (h.is_object()) {
      rss_after = h["memory"]["rss_bytes"].get<int64_t>();
      sessions_after = h["sessions"]["memory_bytes"].get<int64_t>();
    }
  }

  const int64_t peak_kib = server.peak_rss_kib();
  std::printf("load: %d clients, %.1f s: %lld requests (%.1f/s): %lld 2xx, %lld 503, %lld 404 evicted, "
              "%lld unexpected; %lld results compared, %lld differ; /health polled %lld times, queue max %lld, "
              "memory violations %lld; server RSS %.1f MiB before, %.1f MiB peak, %.1f MiB after (sessions %.1f MiB)\n",
              kClients, seconds, static_cast<long long>(tally.requests.load()), tally.requests.load() / seconds,
              static_cast<long long>(tally.ok.load()), static_cast<long long>(tally.busy.load()),
              static_cast<long long>(tally.evicted.load()), static_cast<long long>(tally.unexpected.load()),
              static_cast<long long>(tally.compared.load()), static_cast<long long>(tally.mismatched.load()),
              static_cast<long long>(health_polls.load()), static_cast<long long>(max_queue.load()),
              static_cast<long long>(memory_violations.load()), rss_before / 1048576.0, peak_kib / 1024.0,
              rss_after / 1048576.0,
              sessions_after / 1048576.0);
  for (const auto& [what, n] : tally.unexpected_examples) std::printf("  unexpected: %s (x%d)\n", what.c_str(), n);

  EXPECT_TRUE(server.alive()) << server.log();
  EXPECT_EQ(tally.unexpected.load(), 0);
  EXPECT_EQ(tally.mismatched.load(), 0);
  EXPECT_GE(tally.compared.load(), kClients) << "too few results compared to say anything";
  EXPECT_GT(tally.busy.load() + tally.ok.load(), 0);
  EXPECT_EQ(memory_violations.load(), 0);
  EXPECT_EQ(count_violations.load(), 0);
  EXPECT_GT(health_polls.load(), 10);
  EXPECT_LE(max_queue.load(), 4);
  // The tiny model, 12 MiB of sessions and 16 clients' requests in flight: far below this unless memory leaks.
  EXPECT_EQ(sessions_after, 0);
#ifndef SAM3_SANITIZED  // under ASan the RSS holds its shadow memory and quarantine (CMakeLists.txt); LSan checks leaks
  EXPECT_LT(peak_kib, 1024 * 1024) << "peak RSS " << peak_kib << " KiB";
  // No leak: with the sessions gone the resident memory is back within 32 MiB of where it started (allowance for
  // allocator fragmentation and the text-feature cache, which keeps the few texts of this test).
  EXPECT_LT(rss_after - rss_before, int64_t{32} << 20) << "RSS before " << rss_before << ", after " << rss_after;
#else
  std::printf("peak RSS %lld KiB, RSS after - before %lld bytes (not bounded in sanitizer builds)\n",
              static_cast<long long>(peak_kib), static_cast<long long>(rss_after - rss_before));
#endif
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace sam3::test

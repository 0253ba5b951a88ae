// Unit tests of the server's parts, in process (linked with the sam3_server library, no HTTP): session ids, request
// parsing limits, error messages that must stay valid JSON. The HTTP-level tests are test_server_api.cpp and
// test_server_hostile.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "session_id.h"
#include "session_store.h"

using namespace sam3::server;

namespace {

// Inverts std::mt19937_64's output tempering (u=29 d=0x5555555555555555, s=17 b=0x71d67fffeda60000,
// t=37 c=0xfff7eee000000000, l=43): each step x ^= (x >> k) & m or x ^= (x << k) & m is undone by repeating it
// until all 64 bits are fixed.
uint64_t untemper(uint64_t y) {
  auto undo_right = [](uint64_t v, int k, uint64_t m) {
    uint64_t x = v;
    for (int i = 0; i < 64 / k + 1; ++i) x = v ^ ((x >> k) & m);
    return x;
  };
  auto undo_left = [](uint64_t v, int k, uint64_t m) {
    uint64_t x = v;
    for (int i = 0; i < 64 / k + 1; ++i) x = v ^ ((x << k) & m);
    return x;
  };
  y = undo_right(y, 43, ~uint64_t{0});
  y = undo_left(y, 37, 0xfff7eee000000000ull);
  y = undo_left(y, 17, 0x71d67fffeda60000ull);
  y = undo_right(y, 29, 0x5555555555555555ull);
  return y;
}

// Given 312 consecutive outputs of a std::mt19937_64, the generator that produces the ones after them.
std::mt19937_64 clone_from_outputs(const std::vector<uint64_t>& out) {
  std::stringstream ss;
  for (uint64_t v : out) ss << untemper(v) << ' ';
  ss << 312;  // libstdc++'s state text: the 312 words, then the position (all used)
  std::mt19937_64 g;
  ss >> g;
  return g;
}

std::string hex_pair(uint64_t a, uint64_t b) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace

// The attack itself works on a std::mt19937_64 (so the test below can fail)...
TEST(SessionIds, MersenneTwisterIsPredictable) {
  std::mt19937_64 secret(12345);
  std::vector<uint64_t> seen;
  for (int i = 0; i < 312; ++i) seen.push_back(secret());
  std::mt19937_64 guess = clone_from_outputs(seen);
  EXPECT_EQ(guess(), secret());
}

// ...but not on the store's ids: 156 observed ids (312 64-bit halves) do not give the next one.
TEST(SessionIds, NotPredictableFromEarlierIds) {
  SessionStore store(1000, int64_t{1} << 40);
  std::vector<uint64_t> halves;
  std::set<std::string> ids;
  for (int i = 0; i < 156; ++i) {
    const std::string id = store.create(1, 1, 1)->id;
    ASSERT_EQ(id.size(), 32u);
    ids.insert(id);
    halves.push_back(std::stoull(id.substr(0, 16), nullptr, 16));
    halves.push_back(std::stoull(id.substr(16), nullptr, 16));
  }
  std::mt19937_64 guess = clone_from_outputs(halves);
  const uint64_t a = guess(), b = guess();
  const std::string next = store.create(1, 1, 1)->id;
  EXPECT_NE(next, hex_pair(a, b)) << "the next session id was predicted from the 156 before it";
  EXPECT_EQ(ids.count(next), 0u);
  for (char c : next) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << next;
}

TEST(SessionIds, DistinctAndHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(random_session_id());
  EXPECT_EQ(ids.size(), 1000u);
  for (const std::string& id : ids) EXPECT_EQ(id.size(), 32u);
}

// Finding 10: per-client limits on sessions held and on encodes in flight (a client is its remote address).
TEST(SessionQuota, PerClientLimits) {
  SessionStore store(100, int64_t{1} << 40);
  const ClientQuota a{"10.0.0.1", 3, 2}, b{"10.0.0.2", 3, 2};
  std::string why;
  auto a1 = store.create(4, 4, 48, a, &why);
  auto a2 = store.create(4, 4, 48, a, &why);
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(store.create(4, 4, 48, a, &why), nullptr) << "a third encode in flight for one client";
  EXPECT_NE(why.find("--max-encodes-per-client 2"), std::string::npos) << why;
  why.clear();
  ASSERT_TRUE(store.create(4, 4, 48, b, &why)) << "another client is not limited by the first: " << why;
  a1->set_failed("test");  // no longer encoding: room for one more encode, up to 3 sessions held
  ASSERT_TRUE(store.create(4, 4, 48, a, &why)) << why;
  a2->set_failed("test");
  EXPECT_EQ(store.create(4, 4, 48, a, &why), nullptr) << "a fourth session for one client";
  EXPECT_NE(why.find("--max-sessions-per-client 3"), std::string::npos) << why;
  EXPECT_TRUE(store.remove(a1->id));
  why.clear();
  EXPECT_TRUE(store.create(4, 4, 48, a, &why)) << why;
  EXPECT_TRUE(store.create(4, 4, 48, ClientQuota{}, &why)) << "no quota: no limit";
}

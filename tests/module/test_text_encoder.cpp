// Text encoder vs the official outputs, for every fixture case: from text.token_ids, reproduce text.token_embed,
// text.block*, text.ln_final, text.language_features and text.language_mask. Also the text-feature cache
// (encode once per distinct text, bounded, thread-safe).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "core/error.h"
#include "model/text_feature_cache.h"
#include "model/text_encoder.h"
#include "tiny_fixture.h"

namespace sam3 {
namespace {

using test::tiny_model;

using test::fixture_ids;

// Tolerance (docs/numerics.md, "Prompt encoders"): atol = 1e-5 × the tensor's max |ref|, rtol 0. The reference's own
// noise is ~1e-6 relative; we measured ≤ 2e-6 of scale on every text tensor (float32 sums in another order).
constexpr double kRelScale = 1e-5;

TEST(TextEncoder, MatchesFixturesAllCases) {
  const auto& m = tiny_model();
  TextEncoder enc(m.root().sub("backbone").sub("language_backbone"), m.cfg);
  std::vector<std::string> names = {"text.token_embed", "text.ln_final", "text.language_features"};
  for (int i = 0; i < m.cfg.text.layers; ++i) {
    char b[32];
    std::snprintf(b, sizeof(b), "text.block%02d", i);
    names.push_back(b);
  }
  std::map<std::string, double> worst;
  for (const std::string& c : test::fixture_cases()) {
    SCOPED_TRACE(c);
    TensorFile ref = test::open_fixture("tiny/" + c + ".safetensors");
    test::TempDir dir;
    Dumper dump(dir.path());
    for (int threads : {1, 2}) {
      TextFeatures out = enc.encode(fixture_ids(ref), RunContext{threads, nullptr, &dump});
      const Tensor& want = ref.get("text.language_features");
      EXPECT_TRUE(test::tensors_close(out.features, want, kRelScale * test::compare(want, want, 0, 0).ref_scale, 0))
          << "threads " << threads;
      ASSERT_EQ(out.mask.shape(), ref.get("text.language_mask").shape());
      EXPECT_TRUE(test::tensors_close(out.mask, ref.get("text.language_mask"), 0, 0));
    }
    dump.flush("text");
    TensorFile got = read_safetensors(dir.file("text.safetensors"));
    for (const std::string& n : names) {
      SCOPED_TRACE(n);
      const Tensor& want = ref.get(n);
      const test::CompareStats s = test::compare(got.get(n), want, 0, 0);
      const double atol = kRelScale * s.ref_scale;
      EXPECT_TRUE(test::tensors_close(got.get(n), want, atol, 0));
      worst[n] = std::max(worst[n], s.max_abs / s.ref_scale);
    }
    EXPECT_TRUE(test::tensors_close(got.get("text.language_mask"), ref.get("text.language_mask"), 0, 0));
  }
  for (const auto& [n, w] : worst) std::printf("text encoder: %-24s worst max_abs / scale %.3g\n", n.c_str(), w);
}

TEST(TextEncoder, RejectsBadIds) {
  const auto& m = tiny_model();
  TextEncoder enc(m.root().sub("backbone").sub("language_backbone"), m.cfg);
  std::vector<int64_t> ids(static_cast<size_t>(m.cfg.text.context_length), 0);
  ids[0] = 49406;
  ids[1] = m.cfg.text.vocab_size;  // out of range
  EXPECT_THROW(enc.encode(ids, RunContext{1}), Error);
  ids.resize(5);
  EXPECT_THROW(enc.encode(ids, RunContext{1}), Error);
}

TEST(TextEncoder, MissingWeightIsNamed) {
  const auto& m = tiny_model();
  nn::TensorMap partial = m.weights.tensors;
  partial.erase("backbone.language_backbone.encoder.ln_final.weight");
  try {
    TextEncoder enc(nn::ParamScope(partial, "partial").sub("backbone").sub("language_backbone"), m.cfg);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ln_final.weight"), std::string::npos) << e.what();
  }
}

TEST(TextFeatureCache, EncodesEachTextOnceAndIsBounded) {
  TextFeatureCache cache(2);
  std::atomic<int> calls{0};
  auto make = [&](int64_t tag) {
    return [&calls, tag] {
      ++calls;
      TextFeatures f;
      f.token_ids = {tag};
      f.features = Tensor::zeros({1, 1, 1});
      f.mask = Tensor::zeros({1, 1}, DType::U8);
      return f;
    };
  };
  auto a1 = cache.get_or_encode({1, 2}, make(1));
  auto a2 = cache.get_or_encode({1, 2}, make(99));
  EXPECT_EQ(a1.get(), a2.get());
  EXPECT_EQ(calls.load(), 1);
  cache.get_or_encode({3}, make(3));
  cache.get_or_encode({4}, make(4));  // evicts {1,2}, the least recently used
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(calls.load(), 3);
  auto a3 = cache.get_or_encode({1, 2}, make(5));
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(a3->token_ids, std::vector<int64_t>{5});
  EXPECT_EQ(a1->token_ids, std::vector<int64_t>{1});  // evicted entries stay valid for their holders
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 4u);
}

TEST(TextFeatureCache, ConcurrentRequestsEncodeOnce) {
  TextFeatureCache cache(8);
  std::atomic<int> calls{0};
  std::vector<std::thread> threads;
  std::vector<const TextFeatures*> seen(8, nullptr);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto f = cache.get_or_encode({7, 7, 7}, [&] {
        ++calls;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        TextFeatures x;
        x.features = Tensor::zeros({1, 1, 1});
        return x;
      });
      seen[static_cast<size_t>(t)] = f.get();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(calls.load(), 1);
  for (auto* p : seen) EXPECT_EQ(p, seen[0]);
}

TEST(TextFeatureCache, FailedEncodeIsNotCached) {
  TextFeatureCache cache(4);
  EXPECT_THROW(cache.get_or_encode({1}, []() -> TextFeatures { throw Error("boom"); }), Error);
  EXPECT_EQ(cache.size(), 0u);
  auto f = cache.get_or_encode({1}, [] {
    TextFeatures x;
    x.token_ids = {1};
    return x;
  });
  EXPECT_EQ(f->token_ids, std::vector<int64_t>{1});
}

}  // namespace
}  // namespace sam3

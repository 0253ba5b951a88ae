// Unit tests for nn::PackedRef / pack_row_ranges: a Linear (and an attention's q/k/v) packed at load or, where the
// scope defers it, on first use: the same packed weight and output either way, the source released once, after
// packing, and one packing however many threads ask at once.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "core/context.h"
#include "kernels/packed_weight.h"
#include "nn/linear.h"
#include "nn/multihead_attention.h"
#include "nn/params.h"

using namespace sam3;
using nn::ParamScope;

namespace {

Tensor ramp(const Shape& shape, float scale) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = scale * static_cast<float>((i * 37) % 23 - 11);
  return t;
}

struct Weights {
  nn::TensorMap map;
  std::atomic<int> released{0};
  Weights() {
    map["fc.weight"] = ramp({24, 16}, 0.01f);
    map["fc.bias"] = ramp({24}, 0.1f);
  }
  ParamScope scope() {
    return ParamScope(map, "test", "", [this](const Tensor&) { ++released; }).with_precision(Precision::BF16);
  }
};

std::vector<float> run(const nn::Linear& l, const Tensor& x) {
  Tensor y = Tensor::empty({x.size(0), l.out_features});
  l.forward(x, y, RunContext{1});
  return std::vector<float>(y.f32(), y.f32() + y.numel());
}

TEST(PackedRef, DeferredPacksOnFirstUseAndMatchesPackingAtLoad) {
  Weights now_w, later_w;
  const nn::Linear now = nn::Linear::load(now_w.scope().sub("fc"), 16, 24);
  EXPECT_TRUE(now.packed);
  EXPECT_TRUE(now.packed.packed_yet());
  EXPECT_EQ(now_w.released.load(), 1);  // packed at load: the source given back at once

  const nn::Linear later = nn::Linear::load(later_w.scope().defer_packing().sub("fc"), 16, 24);
  EXPECT_TRUE(later.packed);
  EXPECT_FALSE(later.packed.packed_yet());
  EXPECT_EQ(later_w.released.load(), 0);  // nothing converted, nothing released yet

  const Tensor x = ramp({5, 16}, 0.05f);
  const std::vector<float> a = run(now, x), b = run(later, x);
  EXPECT_TRUE(later.packed.packed_yet());
  EXPECT_EQ(later_w.released.load(), 1);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);  // the same bits: same packing
  EXPECT_EQ(now.packed->bf16(), later.packed->bf16());
  run(later, x);
  EXPECT_EQ(later_w.released.load(), 1);  // once
}

TEST(PackedRef, ConcurrentFirstUsesPackOnce) {
  Weights w;
  const nn::Linear l = nn::Linear::load(w.scope().defer_packing().sub("fc"), 16, 24);
  const Tensor x = ramp({3, 16}, 0.05f);
  std::vector<std::vector<float>> out(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < out.size(); ++t) threads.emplace_back([&, t] { out[t] = run(l, x); });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(w.released.load(), 1);
  for (size_t t = 1; t < out.size(); ++t) EXPECT_EQ(out[t], out[0]);
}

TEST(PackedRef, AttentionRangesShareOnePacking) {
  nn::TensorMap m;
  m["a.in_proj_weight"] = ramp({24, 8}, 0.02f);
  m["a.in_proj_bias"] = ramp({24}, 0.1f);
  m["a.out_proj.weight"] = ramp({8, 8}, 0.03f);
  m["a.out_proj.bias"] = ramp({8}, 0.1f);
  int released = 0;
  const ParamScope p = ParamScope(m, "test", "", [&released](const Tensor&) { ++released; })
                           .with_precision(Precision::BF16)
                           .defer_packing();
  const nn::MultiheadAttention a = nn::MultiheadAttention::load(p.sub("a"), 8, 2);
  for (const nn::PackedRef& r : a.in_packed) EXPECT_FALSE(r.packed_yet());
  EXPECT_EQ(a.in_packed[1]->n, 8);  // asking for k packs q, k and v (one source, released once)
  for (const nn::PackedRef& r : a.in_packed) EXPECT_TRUE(r.packed_yet());
  EXPECT_EQ(released, 1);
  EXPECT_FALSE(a.out_proj.packed.packed_yet());  // its own weight: not packed until used
}

TEST(PackedRef, F32AndCollectingArePlain) {
  Weights w;
  const nn::Linear f32 = nn::Linear::load(w.scope().f32().defer_packing().sub("fc"), 16, 24);
  EXPECT_FALSE(f32.packed);
  EXPECT_EQ(w.released.load(), 0);
  nn::WeightCollector c;
  const nn::Linear col = nn::Linear::load(ParamScope(c).with_precision(Precision::BF16).sub("fc"), 16, 24);
  EXPECT_FALSE(col.packed);
}

}  // namespace

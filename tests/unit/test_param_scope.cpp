// Unit tests for nn::ParamScope: lookups over a tensor map, and the collecting mode that records a spec for every
// tensor a module asks for (what model/weights_schema builds the expected tensors from).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "nn/multihead_attention.h"
#include "nn/params.h"

using namespace sam3;
using nn::ParamScope;
using nn::TensorSpec;
using nn::WeightCollector;

namespace {

bool all_zero(const Tensor& t) {
  const auto* b = static_cast<const unsigned char*>(t.raw());
  for (size_t i = 0; i < t.nbytes(); ++i)
    if (b[i] != 0) return false;
  return true;
}

TEST(ParamScope, CollectingRecordsEveryGetInOrder) {
  WeightCollector c;
  const ParamScope root(c);
  EXPECT_TRUE(root.collecting());
  const ParamScope blk = root.sub("blocks").sub(2);
  const Tensor& w = blk.sub("fc").get("weight", {8, 4});
  EXPECT_EQ(w.shape(), (Shape{8, 4}));
  EXPECT_EQ(w.dtype(), DType::F32);
  EXPECT_TRUE(all_zero(w));
  const Tensor& f = blk.get("freqs_cis", {6, 2}, DType::C64);
  EXPECT_EQ(f.dtype(), DType::C64);
  EXPECT_TRUE(all_zero(f));
  blk.unused("extra", {3});
  root.get("pos_embed", {1, 5, 4});

  const std::vector<TensorSpec>& s = c.specs();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].name, "blocks.2.fc.weight");
  EXPECT_EQ(s[0].shape, (Shape{8, 4}));
  EXPECT_EQ(s[0].dtype, DType::F32);
  EXPECT_EQ(s[1].name, "blocks.2.freqs_cis");
  EXPECT_EQ(s[1].dtype, DType::C64);
  EXPECT_EQ(s[2].name, "blocks.2.extra");
  EXPECT_EQ(s[2].shape, (Shape{3}));
  EXPECT_EQ(s[3].name, "pos_embed");
}

TEST(ParamScope, CollectingAModuleRecordsItsStateDict) {
  WeightCollector c;
  nn::MultiheadAttention::load(ParamScope(c, "layers.0.").sub("self_attn"), 16, 4);
  std::vector<std::string> names;
  for (const TensorSpec& s : c.specs()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                                              "layers.0.self_attn.out_proj.weight",
                                              "layers.0.self_attn.out_proj.bias"}));
  EXPECT_EQ(c.specs()[0].shape, (Shape{48, 16}));
  EXPECT_EQ(c.specs()[2].shape, (Shape{16, 16}));
}

// No storage per tensor: every handed-out tensor borrows the one zero block, which grows to the largest request.
TEST(ParamScope, CollectingSharesOneZeroBlock) {
  WeightCollector c;
  const ParamScope root(c);
  const Tensor& big = root.get("big", {1000, 100});
  const Tensor& small = root.get("small", {10});
  EXPECT_EQ(small.raw(), big.raw());
  const Tensor& bigger = root.get("bigger", {2000, 100});
  EXPECT_TRUE(all_zero(bigger));
  EXPECT_TRUE(all_zero(big));  // still valid after the block grew
}

TEST(ParamScope, CollectingRecordsARepeatedKeyOnce) {
  WeightCollector c;
  const ParamScope root(c);
  const Tensor& a = root.get("w", {2, 3});
  const Tensor& b = root.get("w", {2, 3});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(c.specs().size(), 1u);
  EXPECT_THROW(root.get("w", {3, 2}), Error);
  EXPECT_THROW(root.get("w", {2, 3}, DType::F16), Error);
}

TEST(ParamScope, CollectingRefusesShapelessAndPresenceLookups) {
  WeightCollector c;
  const ParamScope root(c);
  EXPECT_THROW(root.get_any("w"), Error);
  EXPECT_THROW(root.has("w"), Error);
  EXPECT_TRUE(c.specs().empty());
}

TEST(ParamScope, LoadingChecksAndIgnoresUnused) {
  nn::TensorMap m;
  m["a.w"] = Tensor::zeros({2, 3});
  const ParamScope root(m, "file.pt");
  EXPECT_FALSE(root.collecting());
  EXPECT_EQ(&root.sub("a").get("w", {2, 3}), &m.at("a.w"));
  EXPECT_TRUE(root.sub("a").has("w"));
  EXPECT_FALSE(root.has("w"));
  EXPECT_NO_THROW(root.unused("not_in_file", {4}));
  try {
    root.sub("a").get("w", {3, 2});
    ADD_FAILURE() << "accepted a wrong shape";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.w"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("file.pt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(root.get("missing", {1}), Error);
}

}  // namespace

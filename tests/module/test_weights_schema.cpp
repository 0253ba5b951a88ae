// Weights schema: the expected state-dict keys, shapes and dtypes of the image model against the spec's inventory
// (docs/weights.md), the tiny fixture's parameter list and checkpoint, the RoPE tables, and strict validation.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "fixture.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/random_checkpoint.h"
#include "model/weights_schema.h"

namespace sam3 {
namespace {

using json = nlohmann::json;

json golden_json(const std::string& rel) {
  std::ifstream in(test::golden_path(rel), std::ios::binary);
  EXPECT_TRUE(in) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

Config tiny_config() { return load_config_file(test::golden_path("tiny/config.json")); }

int64_t params_with_prefix(const std::vector<TensorSpec>& specs, const std::string& prefix) {
  int64_t n = 0;
  for (const auto& s : specs)
    if (s.name.rfind(prefix, 0) == 0 && !is_rope_buffer(s.name)) n += shape_numel(s.shape);
  return n;
}

const TensorSpec* find_spec(const std::vector<TensorSpec>& specs, const std::string& name) {
  for (const auto& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

// The official checkpoint (docs/weights.md): 1,134 entries (1,102 parameters + 32 freqs_cis), 840,509,750 parameters, and the
// per-component totals of its table.
TEST(WeightsSchema, FullPresetMatchesSpecInventory) {
  const auto specs = expected_tensors(config_preset("sam3"));
  EXPECT_EQ(specs.size(), 1134u);
  int rope = 0;
  for (const auto& s : specs) rope += is_rope_buffer(s.name) ? 1 : 0;
  EXPECT_EQ(rope, 32);
  EXPECT_EQ(count_parameters(specs), 840509750);
  EXPECT_EQ(count_parameters(specs), golden_json("full_config.json")["num_parameters_image_model"].get<int64_t>());
  EXPECT_EQ(params_with_prefix(specs, "backbone.vision_backbone.trunk."), 446237696);
  EXPECT_EQ(params_with_prefix(specs, "backbone.vision_backbone.convs."), 7802112);
  EXPECT_EQ(params_with_prefix(specs, "backbone.vision_backbone.convs.3."), 852480);
  EXPECT_EQ(params_with_prefix(specs, "backbone.language_backbone."), 353724672);
  EXPECT_EQ(params_with_prefix(specs, "geometry_encoder."), 8215808);
  EXPECT_EQ(params_with_prefix(specs, "geometry_encoder.points_"), 132352);
  EXPECT_EQ(params_with_prefix(specs, "transformer.encoder."), 9472512);
  EXPECT_EQ(params_with_prefix(specs, "transformer.decoder."), 11575093);
  EXPECT_EQ(params_with_prefix(specs, "dot_prod_scoring."), 1182976);
  EXPECT_EQ(params_with_prefix(specs, "segmentation_head."), 2298881);
  // A few shapes straight from the spec's tables.
  const auto expect_shape = [&](const std::string& name, Shape shape, DType dtype = DType::F32) {
    const TensorSpec* s = find_spec(specs, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->shape, shape) << name;
    EXPECT_EQ(s->dtype, dtype) << name;
  };
  expect_shape("backbone.vision_backbone.trunk.pos_embed", {1, 577, 1024});
  expect_shape("backbone.vision_backbone.trunk.patch_embed.proj.weight", {1024, 3, 14, 14});
  expect_shape("backbone.vision_backbone.trunk.blocks.0.attn.freqs_cis", {576, 32}, DType::C64);
  expect_shape("backbone.vision_backbone.trunk.blocks.7.attn.freqs_cis", {5184, 32}, DType::C64);
  expect_shape("backbone.vision_backbone.trunk.blocks.31.mlp.fc1.weight", {4736, 1024});
  expect_shape("backbone.vision_backbone.convs.0.dconv_2x2_0.weight", {1024, 512, 2, 2});
  expect_shape("backbone.language_backbone.encoder.text_projection", {1024, 512});
  expect_shape("backbone.language_backbone.encoder.token_embedding.weight", {49408, 1024});
  expect_shape("geometry_encoder.boxes_pool_project.weight", {256, 256, 7, 7});
  expect_shape("geometry_encoder.boxes_pos_enc_project.weight", {256, 258});
  expect_shape("transformer.decoder.ref_point_head.layers.0.weight", {256, 512});
  expect_shape("transformer.decoder.boxRPB_embed_x.layers.1.weight", {8, 256});
  expect_shape("transformer.decoder.query_embed.weight", {200, 256});
  expect_shape("segmentation_head.semantic_seg_head.weight", {1, 256, 1, 1});
  EXPECT_EQ(find_spec(specs, "backbone.vision_backbone.trunk.patch_embed.proj.bias"), nullptr);  // no bias
  EXPECT_EQ(find_spec(specs, "backbone.vision_backbone.trunk.ln_post.weight"), nullptr);
}

// Every parameter of the tiny model, in order, is the list of golden/tiny/init_rules.json; the count is the
// config document's num_parameters_image_model.
TEST(WeightsSchema, TinyMatchesInitRulesAndParameterCount) {
  const auto specs = expected_tensors(tiny_config());
  EXPECT_EQ(count_parameters(specs), 4497742);
  EXPECT_EQ(count_parameters(specs), golden_json("tiny/config.json")["num_parameters_image_model"].get<int64_t>());
  std::vector<std::string> params;
  for (const auto& s : specs)
    if (!is_rope_buffer(s.name)) params.push_back(s.name);
  const json rules = golden_json("tiny/init_rules.json");
  std::vector<std::string> expected;
  for (const auto& r : rules) expected.push_back(r["param"].get<std::string>());
  EXPECT_EQ(params, expected);
  // The generator's init kinds agree with the fixtures' rules.
  for (size_t i = 0, p = 0; i < specs.size(); ++i) {
    if (is_rope_buffer(specs[i].name)) {
      EXPECT_EQ(init_rule(specs[i]).init, Init::Rope);
      continue;
    }
    const std::string rule = rules[p++]["init"].get<std::string>();
    const TensorSpec& s = specs[i];
    const InitRule r = init_rule(s);
    switch (r.init) {
      case Init::FanIn:
        EXPECT_TRUE(rule.rfind(r.gain == 1.0f ? "N(0,1/sqrt(fan_in))" : "N(0,0.", 0) == 0) << s.name << ": " << rule;
        break;
      case Init::FanInQK: EXPECT_EQ(rule, "N(0,1/sqrt(fan_in)); q,k rows x1.5") << s.name; break;
      case Init::FanInDim0:
        EXPECT_TRUE(rule == "N(0,1/sqrt(in_channels))" || rule == "N(0,1/sqrt(width))") << s.name << ": " << rule;
        break;
      case Init::Bias:
      case Init::NormBias: EXPECT_EQ(rule, "N(0,0.1)") << s.name; break;
      case Init::NormWeight: EXPECT_EQ(rule, "1+N(0,0.1)") << s.name; break;
      case Init::Embedding: EXPECT_EQ(rule, "N(0,1.0)") << s.name; break;
      case Init::PosEmbed: EXPECT_EQ(rule, "N(0,0.5)") << s.name; break;
      case Init::Rope: ADD_FAILURE() << s.name; break;
    }
    if (r.gain != 1.0f) {
      const std::string g = r.gain == 0.3f ? "N(0,0.3/sqrt(fan_in))" : "N(0,0.25/sqrt(fan_in))";
      EXPECT_EQ(rule.rfind(g, 0), 0u) << s.name << ": " << rule;
    }
  }
}

// The RoPE tables equal the official ones recorded in the fixture (view_as_real of the complex64 buffer).
// Tolerance 1e-6 absolute: values are cos/sin in [-1, 1] of the same float32 angles; with glibc's cosf/sinf they are
// bit-identical to PyTorch's (measured: 0 of 5,760 differ), another libm may differ by an ulp (~1.2e-7).
TEST(WeightsSchema, RopeTablesMatchOfficial) {
  const Config c = tiny_config();
  const TensorFile f = test::open_fixture("tiny/test_image.image.safetensors");
  for (int block : {0, 1}) {
    const Tensor ours = vit_rope_table(c, block);
    const Tensor& ref = f.get(block == 0 ? "vit.freqs_cis.window" : "vit.freqs_cis.global");
    ASSERT_EQ(ours.dtype(), DType::C64);
    EXPECT_EQ(ours.shape(), (Shape{ref.size(0), ref.size(1)}));
    const Tensor as_real = Tensor::borrow(const_cast<void*>(ours.raw()), ref.shape(), DType::F32, ours.keepalive());
    EXPECT_TRUE(test::tensors_close(as_real, ref, 1e-6, 0)) << "block " << block;
  }
  const Config full = config_preset("sam3");
  EXPECT_EQ(vit_rope_table(full, 7).shape(), (Shape{5184, 32}));
  EXPECT_EQ(vit_rope_table(full, 0).shape(), (Shape{576, 32}));
  EXPECT_THROW(vit_rope_table(full, 32), Error);
}

// The official tiny checkpoint passes strict validation; its RoPE buffers are bit-identical to ours.
TEST(WeightsSchema, OfficialTinyCheckpointValidates) {
  const Config c = tiny_config();
  const WeightFile wf = load_weight_file(test::golden_path("tiny/sam3_random.pt"));
  EXPECT_NO_THROW(validate_weights(c, wf));
  EXPECT_TRUE(weight_problems(c, wf.tensors).empty());
  EXPECT_EQ(wf.skipped.size(), 30u);  // 22 sam2_convs.* + 8 tracker.*
  int64_t params = 0;
  for (const auto& [name, t] : wf.tensors) params += is_rope_buffer(name) ? 0 : t.numel();
  EXPECT_EQ(params, 4497742);
  for (int b = 0; b < c.vit.depth; ++b) {
    const Tensor& t = wf.tensors.at("backbone.vision_backbone.trunk.blocks." + std::to_string(b) + ".attn.freqs_cis");
    const Tensor ours = vit_rope_table(c, b);
    ASSERT_EQ(t.shape(), ours.shape());
    const Tensor a = Tensor::borrow(const_cast<void*>(ours.raw()), {ours.numel() * 2}, DType::F32, ours.keepalive());
    const Tensor e = Tensor::borrow(const_cast<void*>(t.raw()), {t.numel() * 2}, DType::F32, t.keepalive());
    EXPECT_TRUE(test::tensors_close(a, e, 1e-6, 0)) << "block " << b;  // tolerance: see RopeTablesMatchOfficial
  }
  // Against the wrong config every mismatch is reported.
  EXPECT_THROW(validate_weights(config_preset("sam3"), wf), Error);
}

std::map<std::string, Tensor> zero_weights(const std::vector<TensorSpec>& specs) {
  std::map<std::string, Tensor> m;
  for (const auto& s : specs) m[s.name] = Tensor::zeros(s.shape, s.dtype);
  return m;
}

TEST(WeightsSchema, ValidationListsEveryProblemAtOnce) {
  const Config c = tiny_config();
  std::map<std::string, Tensor> w = zero_weights(expected_tensors(c));
  EXPECT_NO_THROW(validate_weights(c, w, "tiny.pt"));
  EXPECT_TRUE(weight_problems(c, w).empty());

  w.erase("transformer.decoder.query_embed.weight");
  w.erase("backbone.vision_backbone.trunk.blocks.3.attn.freqs_cis");
  w["backbone.vision_backbone.trunk.blocks.0.mlp.fc1.weight"] = Tensor::zeros({64, 296});
  w["geometry_encoder.cls_embed.weight"] = Tensor::zeros({1, 64}, DType::F16);
  w["backbone.vision_backbone.trunk.blocks.0.attn.freqs_cis"] = Tensor::zeros({36, 8, 2});
  w["transformer.decoder.extra_head.weight"] = Tensor::zeros({3});
  const auto problems = weight_problems(c, w);
  EXPECT_EQ(problems.size(), 6u);
  try {
    validate_weights(c, w, "tiny.pt");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const char* needle :
         {"tiny.pt", "config 'tiny'", "6 problems", "missing: transformer.decoder.query_embed.weight (expected [20, 64] F32)",
          "missing: backbone.vision_backbone.trunk.blocks.3.attn.freqs_cis (expected [324, 8] C64)",
          "wrong shape: backbone.vision_backbone.trunk.blocks.0.mlp.fc1.weight is [64, 296] F32, expected [296, 64] F32",
          "wrong dtype: geometry_encoder.cls_embed.weight is [1, 64] F16, expected [1, 64] F32",
          "wrong shape: backbone.vision_backbone.trunk.blocks.0.attn.freqs_cis is [36, 8, 2] F32",
          "unexpected: transformer.decoder.extra_head.weight"})
      EXPECT_NE(m.find(needle), std::string::npos) << "lacks '" << needle << "' in:\n" << m;
  }
  // The full preset's weights do not fit the tiny config. Validation reads only shapes and dtypes, so every
  // tensor here borrows one small dummy buffer instead of allocating 3.4 GB.
  std::vector<float> dummy(1);
  std::map<std::string, Tensor> full;
  for (const auto& s : expected_tensors(config_preset("sam3"))) full[s.name] = Tensor::borrow(dummy.data(), s.shape, s.dtype);
  EXPECT_NO_THROW(validate_weights(config_preset("sam3"), full));
  EXPECT_THROW(validate_weights(c, full), Error);
}

TEST(WeightsSchema, RopeBufferNames) {
  EXPECT_TRUE(is_rope_buffer("backbone.vision_backbone.trunk.blocks.12.attn.freqs_cis"));
  EXPECT_FALSE(is_rope_buffer("detector.backbone.vision_backbone.trunk.blocks.12.attn.freqs_cis"));
  EXPECT_FALSE(is_rope_buffer("backbone.vision_backbone.trunk.blocks.12.attn.qkv.weight"));
}

}  // namespace
}  // namespace sam3

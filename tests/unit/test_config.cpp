// Config: presets, strict JSON parsing, serialisation round trip, derived sizes, validation.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "fixture.h"
#include "model/config.h"

namespace sam3 {
namespace {

using json = nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json golden_json(const std::string& rel) { return json::parse(read_text(test::golden_path(rel))); }

// Expects parse_config(text) to throw a sam3::Error whose message contains every string of `needles`.
void expect_parse_error(const std::string& text, const std::vector<std::string>& needles) {
  try {
    parse_config(text, "test.json");
    ADD_FAILURE() << "no error for: " << text;
  } catch (const Error& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
        << "message lacks '" << n << "':\n" << e.what();
  }
}

void expect_invalid(const Config& c, const std::vector<std::string>& needles) {
  try {
    validate_config(c);
    ADD_FAILURE() << "config accepted";
  } catch (const Error& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
        << "message lacks '" << n << "':\n" << e.what();
  }
}

// The preset `sam3` is the official model: every field equals golden/full_config.json's "config". The fixture calls
// the same model "full"; our preset is named "sam3" (the name users type), so "name" is the one field that differs.
TEST(Config, PresetSam3EqualsFullConfigFieldByField) {
  const json full = golden_json("full_config.json").at("config");
  const json ours = json::parse(config_to_json(config_preset("sam3")));
  ASSERT_EQ(ours.size(), full.size());
  int compared = 0;
  for (auto it = full.begin(); it != full.end(); ++it) {
    ASSERT_TRUE(ours.contains(it.key())) << it.key();
    if (it.key() == "name") {
      EXPECT_EQ(it.value(), "full");
      EXPECT_EQ(ours["name"], "sam3");
      continue;
    }
    if (it.value().is_object()) {
      ASSERT_EQ(ours[it.key()].size(), it.value().size()) << it.key();
      for (auto f = it.value().begin(); f != it.value().end(); ++f) {
        EXPECT_EQ(ours[it.key()].value(f.key(), json()), f.value()) << it.key() << "." << f.key();
        ++compared;
      }
    } else {
      EXPECT_EQ(ours[it.key()], it.value()) << it.key();
      ++compared;
    }
  }
  EXPECT_EQ(compared, 3 + 23 + 2 + 3 + 7 + 11 + 12 + 4 + 4 + 11);  // every field except name
  // And through the parser: the document parses (derived cross-check included) to the preset, name aside.
  Config parsed = load_config_file(test::golden_path("full_config.json"));
  EXPECT_EQ(parsed.name, "full");
  parsed.name = "sam3";
  EXPECT_EQ(parsed, config_preset("sam3"));
}

TEST(Config, TinyDocumentParsesWithDerivedCrossCheck) {
  const Config c = load_config_file(test::golden_path("tiny/config.json"));
  EXPECT_EQ(c.name, "tiny");
  EXPECT_EQ(c.d_model, 64);
  EXPECT_EQ(c.vit.depth, 4);
  EXPECT_EQ(c.vit.global_att_blocks, (std::vector<int>{1, 3}));
  EXPECT_EQ(c.decoder.num_queries, 20);
  EXPECT_DOUBLE_EQ(c.vit.layer_norm_eps, 1e-5);
  // derived sizes against the document's "derived" section
  const json d = golden_json("tiny/config.json").at("derived");
  EXPECT_EQ(c.vit_grid(), d["vit_token_grid"].get<int>());
  EXPECT_EQ(c.vit_num_tokens(), d["vit_num_tokens"].get<int>());
  EXPECT_EQ(c.vit_head_dim(), d["vit_head_dim"].get<int>());
  EXPECT_EQ(c.vit_mlp_hidden(), d["vit_mlp_hidden"].get<int>());
  EXPECT_EQ(c.vit_window_block_indices(), d["vit_window_block_indices"].get<std::vector<int>>());
  EXPECT_EQ(c.vit_pos_embed_tokens(), d["vit_pos_embed_shape"][1].get<int>());
  EXPECT_EQ(c.fpn_sizes_all(), d["fpn_sizes_all"].get<std::vector<int>>());
  EXPECT_EQ(c.text_mlp_hidden(), d["text_mlp_hidden"].get<int>());
  EXPECT_DOUBLE_EQ(c.vit_rope_scale_global(), d["rope_scale_pos_global"].get<double>());
  EXPECT_EQ(c.vit_rope_tokens(0), 36);
  EXPECT_EQ(c.vit_rope_tokens(1), 324);
  // full-size derived values
  const Config f = config_preset("sam3");
  EXPECT_EQ(f.vit_grid(), 72);
  EXPECT_EQ(f.vit_mlp_hidden(), 4736);
  EXPECT_EQ(f.vit_pos_embed_tokens(), 577);
  EXPECT_EQ(f.mask_logits_size(), 288);
  EXPECT_EQ(f.fpn_levels_used(), 3);
}

TEST(Config, RoundTripThroughJson) {
  for (const char* rel : {"tiny/config.json", "full_config.json"}) {
    const Config c = load_config_file(test::golden_path(rel));
    const std::string text = config_to_json(c);
    EXPECT_EQ(parse_config(text), c) << rel;
    // The serialised object equals the document's "config" object exactly (same keys, same values).
    EXPECT_EQ(json::parse(text), golden_json(rel).at("config")) << rel;
  }
  EXPECT_EQ(parse_config(config_to_json(config_preset("sam3"))), config_preset("sam3"));
}

TEST(Config, MissingKeysKeepPresetValues) {
  const Config c = parse_config(R"({"name": "small", "vit": {"depth": 8, "global_att_blocks": [3, 7]}})");
  Config expect = config_preset("sam3");
  expect.name = "small";
  expect.vit.depth = 8;
  expect.vit.global_att_blocks = {3, 7};
  EXPECT_EQ(c, expect);
  EXPECT_NE(c, config_preset("sam3"));
}

TEST(Config, UnknownKeysAndWrongTypesNameTheKey) {
  expect_parse_error(R"({"vit": {"depht": 3}})", {"test.json", "vit.depht", "unknown key"});
  expect_parse_error(R"({"colour": 1})", {"'colour'", "unknown key"});
  expect_parse_error(R"({"config": {"decoder": {"boxrpb": "log"}}})", {"decoder.boxrpb"});
  expect_parse_error(R"({"vit": {"depth": "32"}})", {"vit.depth", "expected an integer"});
  expect_parse_error(R"({"vit": {"depth": 32.5}})", {"vit.depth", "expected an integer"});
  expect_parse_error(R"({"vit": {"qkv_bias": 1}})", {"vit.qkv_bias", "true or false"});
  expect_parse_error(R"({"vit": {"mlp_ratio": "4"}})", {"vit.mlp_ratio", "expected a number"});
  expect_parse_error(R"({"vit": {"global_att_blocks": [1, "x"]}})", {"vit.global_att_blocks[1]"});
  expect_parse_error(R"({"vit": {"global_att_blocks": 7}})", {"vit.global_att_blocks", "expected an array"});
  expect_parse_error(R"({"neck": []})", {"neck", "expected an object"});
  expect_parse_error(R"({"encoder": {"activation": 3}})", {"encoder.activation", "expected a string"});
  expect_parse_error(R"({"d_model": 99999999999})", {"d_model", "out of range"});
  expect_parse_error("{not json", {"test.json", "not valid JSON"});
  expect_parse_error("[1, 2]", {"test.json", "JSON object"});
}

TEST(Config, DerivedMismatchInDocumentIsReported) {
  json doc = golden_json("tiny/config.json");
  doc["derived"]["vit_token_grid"] = 19;
  doc["derived"]["vit_mlp_hidden"] = 1;
  expect_parse_error(doc.dump(), {"derived.vit_token_grid", "derived.vit_mlp_hidden"});
}

TEST(Config, ValidationListsEveryProblem) {
  Config c = config_preset("sam3");
  c.vit.img_size = 1000;  // not a multiple of 14
  c.resolution = 1000;
  c.vit.num_heads = 12;   // 1024 % 12 != 0
  c.decoder.num_heads = 7;
  c.vit.global_att_blocks = {7, 40};
  c.pos_enc.num_pos_feats = 128;
  expect_invalid(c, {"vit.patch_size (14) must divide vit.img_size (1000)", "vit.num_heads (12) must divide",
                     "decoder.num_heads (7) must divide d_model", "vit.global_att_blocks: block 40",
                     "pos_enc.num_pos_feats"});

  Config r = config_preset("sam3");
  r.resolution = 1022;
  expect_invalid(r, {"resolution: must equal vit.img_size"});

  Config h = config_preset("sam3");
  h.vit.num_heads = 32;  // head dim 32: fine; 2-D RoPE needs head_dim % 4 == 0
  EXPECT_NO_THROW(validate_config(h));
  h.vit.num_heads = 128;  // head dim 8: fine
  EXPECT_NO_THROW(validate_config(h));
  h.vit.embed_dim = 1032;  // head dim 1032 / 172 = 6
  h.vit.num_heads = 172;
  expect_invalid(h, {"2-D RoPE needs a head dim divisible by 4"});

  // Window size that does not divide the grid: padding is handled (upstream window_partition pads), so accepted.
  Config w = config_preset("sam3");
  w.vit.window_size = 20;
  EXPECT_NO_THROW(validate_config(w));
  EXPECT_EQ(w.vit_window_pad(), 8);
  EXPECT_EQ(w.vit_windows_per_side(), 4);

  Config u = config_preset("sam3");
  u.vit.rel_pos_blocks = {0};
  u.decoder.boxRPB = "both";
  u.encoder.activation = "gelu";
  expect_invalid(u, {"vit.rel_pos_blocks: only the official value [] is supported",
                     "decoder.boxRPB: only the official value \"log\"", "encoder.activation"});

  Config s = config_preset("sam3");
  s.seg.num_upsampling_stages = 1;
  s.seg.groupnorm_groups = 7;
  expect_invalid(s, {"seg.num_upsampling_stages", "seg.groupnorm_groups (7) must divide d_model"});

  // Training-only switches are free.
  Config t = config_preset("sam3");
  t.decoder.dac = false;
  t.vit.drop_path_rate = 0;
  EXPECT_NO_THROW(validate_config(t));

  // parse_config validates too.
  expect_parse_error(R"({"vit": {"num_heads": 10}})", {"vit.num_heads (10) must divide vit.embed_dim (1024)"});
}

TEST(Config, UnknownPreset) {
  EXPECT_EQ(config_preset_names(), (std::vector<std::string>{"sam3"}));
  try {
    config_preset("sam4");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sam4"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("sam3"), std::string::npos);
  }
}

}  // namespace
}  // namespace sam3

namespace sam3 {
namespace {

// The interactive head's section: absent from full_config.json / tiny/config.json (the preset derives the official
// values from the sizes), present in tiny_pvs/config.json (read, round-tripped, cross-checked against the sizes).
TEST(Config, PvsSectionPresetAndDocument) {
  const PvsConfig p = config_preset("sam3").pvs();
  EXPECT_TRUE(p.enabled);
  EXPECT_EQ(p.prompt_embed_dim, 256);
  EXPECT_EQ(p.image_embedding_size, 72);
  EXPECT_EQ(p.low_res_mask_size, 288);
  EXPECT_EQ(p.mask_in_chans, 16);
  EXPECT_EQ(p.num_multimask_outputs, 3);
  EXPECT_EQ(p.two_way_transformer.depth, 2);
  EXPECT_EQ(p.two_way_transformer.num_heads, 8);
  EXPECT_EQ(p.two_way_transformer.mlp_dim, 2048);
  EXPECT_EQ(p.two_way_transformer.attention_downsample_rate, 2);
  EXPECT_EQ(p.iou_head_depth, 3);
  EXPECT_EQ(p.iou_head_hidden_dim, 256);
  EXPECT_DOUBLE_EQ(p.dynamic_multimask_stability_delta, 0.05);
  EXPECT_DOUBLE_EQ(p.dynamic_multimask_stability_thresh, 0.98);
  EXPECT_DOUBLE_EQ(p.max_hole_area, 256.0);
  EXPECT_DOUBLE_EQ(p.low_res_logit_clamp, 32.0);

  const Config t = load_config_file(test::golden_path("tiny_pvs/config.json"));
  ASSERT_TRUE(t.pvs_section.has_value());
  EXPECT_EQ(t.pvs().prompt_embed_dim, 64);
  EXPECT_DOUBLE_EQ(t.pvs().max_hole_area, 16.0);
  // The tiny model without a section derives exactly the tiny_pvs section.
  Config derived = load_config_file(test::golden_path("tiny/config.json"));
  EXPECT_FALSE(derived.pvs_section.has_value());
  derived.pvs_section = derived.pvs();
  EXPECT_EQ(derived, t);
  const std::string text = config_to_json(t);
  EXPECT_EQ(json::parse(text), golden_json("tiny_pvs/config.json").at("config"));
  EXPECT_EQ(parse_config(text), t);

  json bad = golden_json("tiny_pvs/config.json");
  bad["config"]["pvs"]["prompt_embed_dim"] = 32;
  bad["config"]["pvs"]["two_way_transformer"]["num_heads"] = 7;
  expect_parse_error(bad.dump(), {"pvs.prompt_embed_dim", "pvs.two_way_transformer.num_heads"});
  json unknown = golden_json("tiny_pvs/config.json");
  unknown["config"]["pvs"]["two_way_transformer"]["depht"] = 2;
  expect_parse_error(unknown.dump(), {"pvs.two_way_transformer.depht"});
}

}  // namespace
}  // namespace sam3

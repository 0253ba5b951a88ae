// sam3.cpp — model config: presets, JSON (strict parse, serialize), derived sizes and validation.
// ref: sam3/model_builder.py (build_sam3_image_model and the _create_* helpers)
#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace sam3 {

namespace {

using json = nlohmann::ordered_json;

// ---- one field list per section, shared by the parser and the serializer (so they cannot drift) ----------------
// F is called as f("key", field) for every field, in the fixtures' key order.

template <class S, class F> void vit_fields(S& s, F&& f) {
  f("img_size", s.img_size);
  f("pretrain_img_size", s.pretrain_img_size);
  f("patch_size", s.patch_size);
  f("embed_dim", s.embed_dim);
  f("depth", s.depth);
  f("num_heads", s.num_heads);
  f("mlp_ratio", s.mlp_ratio);
  f("qkv_bias", s.qkv_bias);
  f("drop_path_rate", s.drop_path_rate);
  f("use_abs_pos", s.use_abs_pos);
  f("tile_abs_pos", s.tile_abs_pos);
  f("global_att_blocks", s.global_att_blocks);
  f("rel_pos_blocks", s.rel_pos_blocks);
  f("use_rope", s.use_rope);
  f("use_interp_rope", s.use_interp_rope);
  f("window_size", s.window_size);
  f("pretrain_use_cls_token", s.pretrain_use_cls_token);
  f("retain_cls_token", s.retain_cls_token);
  f("ln_pre", s.ln_pre);
  f("ln_post", s.ln_post);
  f("bias_patch_embed", s.bias_patch_embed);
  f("layer_norm_eps", s.layer_norm_eps);
  f("rope_theta", s.rope_theta);
}

template <class S, class F> void neck_fields(S& s, F&& f) {
  f("scale_factors", s.scale_factors);
  f("scalp", s.scalp);
}

template <class S, class F> void pos_enc_fields(S& s, F&& f) {
  f("num_pos_feats", s.num_pos_feats);
  f("temperature", s.temperature);
  f("normalize", s.normalize);
}

template <class S, class F> void text_fields(S& s, F&& f) {
  f("width", s.width);
  f("heads", s.heads);
  f("layers", s.layers);
  f("context_length", s.context_length);
  f("vocab_size", s.vocab_size);
  f("mlp_ratio", s.mlp_ratio);
  f("text_projection_dim", s.text_projection_dim);
}

template <class S, class F> void encoder_fields(S& s, F&& f) {
  f("num_layers", s.num_layers);
  f("num_heads", s.num_heads);
  f("dim_feedforward", s.dim_feedforward);
  f("activation", s.activation);
  f("pre_norm", s.pre_norm);
  f("pos_enc_at_attn", s.pos_enc_at_attn);
  f("pos_enc_at_cross_attn_keys", s.pos_enc_at_cross_attn_keys);
  f("pos_enc_at_cross_attn_queries", s.pos_enc_at_cross_attn_queries);
  f("add_pooled_text_to_img_feat", s.add_pooled_text_to_img_feat);
  f("pool_text_with_mask", s.pool_text_with_mask);
  f("num_feature_levels", s.num_feature_levels);
}

template <class S, class F> void decoder_fields(S& s, F&& f) {
  f("num_layers", s.num_layers);
  f("num_queries", s.num_queries);
  f("num_heads", s.num_heads);
  f("dim_feedforward", s.dim_feedforward);
  f("activation", s.activation);
  f("boxRPB", s.boxRPB);
  f("presence_token", s.presence_token);
  f("dac", s.dac);
  f("dac_use_selfatt_ln", s.dac_use_selfatt_ln);
  f("box_refine", s.box_refine);
  f("use_text_cross_attention", s.use_text_cross_attention);
  f("clamp_presence_logit_max_val", s.clamp_presence_logit_max_val);
}

template <class S, class F> void scoring_fields(S& s, F&& f) {
  f("prompt_mlp_hidden", s.prompt_mlp_hidden);
  f("prompt_mlp_layers", s.prompt_mlp_layers);
  f("d_proj", s.d_proj);
  f("clamp_max_val", s.clamp_max_val);
}

template <class S, class F> void seg_fields(S& s, F&& f) {
  f("num_upsampling_stages", s.num_upsampling_stages);
  f("interpolation_mode", s.interpolation_mode);
  f("cross_attend_prompt_heads", s.cross_attend_prompt_heads);
  f("groupnorm_groups", s.groupnorm_groups);
}

template <class S, class F> void geometry_fields(S& s, F&& f) {
  f("num_layers", s.num_layers);
  f("num_heads", s.num_heads);
  f("dim_feedforward", s.dim_feedforward);
  f("activation", s.activation);
  f("roi_size", s.roi_size);
  f("add_cls", s.add_cls);
  f("add_post_encode_proj", s.add_post_encode_proj);
  f("encode_boxes_as_points", s.encode_boxes_as_points);
  f("pos_enc_at_attn", s.pos_enc_at_attn);
  f("pos_enc_at_cross_attn_keys", s.pos_enc_at_cross_attn_keys);
  f("pos_enc_at_cross_attn_queries", s.pos_enc_at_cross_attn_queries);
}

template <class S, class F> void two_way_fields(S& s, F&& f) {
  f("depth", s.depth);
  f("num_heads", s.num_heads);
  f("mlp_dim", s.mlp_dim);
  f("attention_downsample_rate", s.attention_downsample_rate);
}

template <class S, class F> void pvs_fields(S& s, F&& f) {
  f("enabled", s.enabled);
  f("prompt_embed_dim", s.prompt_embed_dim);
  f("image_embedding_size", s.image_embedding_size);
  f("low_res_mask_size", s.low_res_mask_size);
  f("mask_in_chans", s.mask_in_chans);
  f("num_multimask_outputs", s.num_multimask_outputs);
  f("two_way_transformer", s.two_way_transformer);
  f("iou_head_depth", s.iou_head_depth);
  f("iou_head_hidden_dim", s.iou_head_hidden_dim);
  f("iou_prediction_use_sigmoid", s.iou_prediction_use_sigmoid);
  f("pred_obj_scores", s.pred_obj_scores);
  f("pred_obj_scores_mlp", s.pred_obj_scores_mlp);
  f("use_high_res_features", s.use_high_res_features);
  f("dynamic_multimask_via_stability", s.dynamic_multimask_via_stability);
  f("dynamic_multimask_stability_delta", s.dynamic_multimask_stability_delta);
  f("dynamic_multimask_stability_thresh", s.dynamic_multimask_stability_thresh);
  f("mask_threshold", s.mask_threshold);
  f("max_hole_area", s.max_hole_area);
  f("max_sprinkle_area", s.max_sprinkle_area);
  f("low_res_logit_clamp", s.low_res_logit_clamp);
}

// Sections: S is Config or const Config; G is called as g("key", section, field_visitor).
template <class C, class G> void config_sections(C& c, G&& g) {
  g("vit", c.vit, [](auto& s, auto&& f) { vit_fields(s, f); });
  g("neck", c.neck, [](auto& s, auto&& f) { neck_fields(s, f); });
  g("pos_enc", c.pos_enc, [](auto& s, auto&& f) { pos_enc_fields(s, f); });
  g("text", c.text, [](auto& s, auto&& f) { text_fields(s, f); });
  g("encoder", c.encoder, [](auto& s, auto&& f) { encoder_fields(s, f); });
  g("decoder", c.decoder, [](auto& s, auto&& f) { decoder_fields(s, f); });
  g("scoring", c.scoring, [](auto& s, auto&& f) { scoring_fields(s, f); });
  g("seg", c.seg, [](auto& s, auto&& f) { seg_fields(s, f); });
  g("geometry", c.geometry, [](auto& s, auto&& f) { geometry_fields(s, f); });
}

template <class C, class F> void top_fields(C& c, F&& f) {
  f("name", c.name);
  f("resolution", c.resolution);
  f("patch_size", c.patch_size);
  f("d_model", c.d_model);
}

// ---- reading one value strictly --------------------------------------------------------------------------------

struct Reader {
  const std::string& source;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(source + ": config key '" + key + "': " + what);
  }
  static std::string type_of(const json& j) { return j.type_name(); }

  void read(const json& j, const std::string& key, int& out) const {
    if (!j.is_number_integer()) fail(key, std::string("expected an integer, got ") + type_of(j) + " " + j.dump());
    const int64_t v = j.get<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX) fail(key, "integer out of range: " + j.dump());
    out = static_cast<int>(v);
  }
  void read(const json& j, const std::string& key, double& out) const {
    if (!j.is_number()) fail(key, std::string("expected a number, got ") + type_of(j) + " " + j.dump());
    out = j.get<double>();
  }
  void read(const json& j, const std::string& key, bool& out) const {
    if (!j.is_boolean()) fail(key, std::string("expected true or false, got ") + type_of(j) + " " + j.dump());
    out = j.get<bool>();
  }
  void read(const json& j, const std::string& key, std::string& out) const {
    if (!j.is_string()) fail(key, std::string("expected a string, got ") + type_of(j) + " " + j.dump());
    out = j.get<std::string>();
  }
  void read(const json& j, const std::string& key, TwoWayTransformerConfig& out) const {
    read_object(j, key, out, [](auto& s, auto&& f) { two_way_fields(s, f); });
  }
  template <class T> void read(const json& j, const std::string& key, std::vector<T>& out) const {
    if (!j.is_array()) fail(key, std::string("expected an array, got ") + type_of(j) + " " + j.dump());
    std::vector<T> v(j.size());
    for (size_t i = 0; i < j.size(); ++i) read(j[i], key + "[" + std::to_string(i) + "]", v[i]);
    out = std::move(v);
  }

  // Reads the object `j` into the fields visited by `visit`; unknown keys throw.
  template <class S, class V> void read_object(const json& j, const std::string& prefix, S& s, V&& visit) const {
    if (!j.is_object()) fail(prefix, std::string("expected an object, got ") + type_of(j));
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool found = false;
      visit(s, [&](const char* name, auto& field) {
        if (!found && it.key() == name) {
          read(it.value(), prefix + "." + name, field);
          found = true;
        }
      });
      if (!found) fail(prefix + "." + it.key(), "unknown key");
    }
  }
};

template <class T> json to_json_value(const T& v) { return json(v); }
json to_json_value(const TwoWayTransformerConfig& v) {
  json j = json::object();
  two_way_fields(v, [&](const char* name, const auto& field) { j[name] = json(field); });
  return j;
}

template <class S, class V> json section_to_json(const S& s, V&& visit) {
  json j = json::object();
  visit(s, [&](const char* name, const auto& field) { j[name] = to_json_value(field); });
  return j;
}

json config_json(const Config& c) {
  json j = json::object();
  top_fields(c, [&](const char* name, const auto& field) { j[name] = to_json_value(field); });
  config_sections(c, [&](const char* name, const auto& section, auto&& visit) {
    j[name] = section_to_json(section, visit);
  });
  if (c.pvs_section) j["pvs"] = section_to_json(*c.pvs_section, [](auto& s, auto&& f) { pvs_fields(s, f); });
  return j;
}

Config config_from_object(const json& j, const std::string& source) {
  Reader r{source};
  if (!j.is_object()) r.fail("config", std::string("expected an object, got ") + j.type_name());
  Config c = config_preset("sam3");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    bool found = false;
    top_fields(c, [&](const char* name, auto& field) {
      if (!found && key == name) {
        r.read(it.value(), name, field);
        found = true;
      }
    });
    config_sections(c, [&](const char* name, auto& section, auto&& visit) {
      if (!found && key == name) {
        r.read_object(it.value(), name, section, visit);
        found = true;
      }
    });
    if (!found && key == "pvs") {
      PvsConfig p = c.pvs();  // keys missing from the section keep the values derived from the sizes
      r.read_object(it.value(), "pvs", p, [](auto& s, auto&& f) { pvs_fields(s, f); });
      c.pvs_section = p;
      found = true;
    }
    if (!found) r.fail(key, "unknown key");
  }
  return c;
}

// Cross-checks the document's "derived" entries that we compute; other entries are ignored (they are documentation
// of the fixtures, e.g. image_mean).
void check_derived(const Config& c, const json& d, const std::string& source) {
  if (!d.is_object()) throw Error(source + ": 'derived' must be an object");
  std::vector<std::string> bad;
  auto check = [&](const char* key, const json& ours) {
    auto it = d.find(key);
    if (it != d.end() && *it != ours)
      bad.push_back(std::string("derived.") + key + " is " + it->dump() + " but the config gives " + ours.dump());
  };
  check("vit_token_grid", c.vit_grid());
  check("vit_num_tokens", c.vit_num_tokens());
  check("vit_head_dim", c.vit_head_dim());
  check("vit_mlp_hidden", c.vit_mlp_hidden());
  check("vit_window_block_indices", c.vit_window_block_indices());
  check("vit_pos_embed_shape", json::array({1, c.vit_pos_embed_tokens(), c.vit.embed_dim}));
  check("vit_pretrain_grid", c.vit_pretrain_grid());
  check("vit_window_pad", c.vit_window_pad());
  check("vit_windows_per_side", c.vit_windows_per_side());
  check("rope_pt_size", c.vit.window_size);
  check("rope_freqs_per_axis", c.vit_rope_freqs_per_axis());
  check("fpn_sizes_all", c.fpn_sizes_all());
  check("encoder_image_tokens", c.vit_num_tokens());
  check("mask_logits_size", c.mask_logits_size());
  check("text_mlp_hidden", c.text_mlp_hidden());
  check("decoder_rpb_feat_size", c.vit_grid());
  check("pixel_decoder_convs_present", c.seg.num_upsampling_stages);
  check("pixel_decoder_convs_used", c.fpn_levels_used() - 1);
  if (auto it = d.find("rope_scale_pos_global"); it != d.end()) {
    if (!it->is_number() || std::fabs(it->get<double>() - c.vit_rope_scale_global()) > 1e-12)
      bad.push_back("derived.rope_scale_pos_global is " + it->dump() + " but the config gives " +
                    std::to_string(c.vit_rope_scale_global()));
  }
  if (!bad.empty()) {
    std::string msg = source + ": the document's derived values disagree with its config:";
    for (const auto& b : bad) msg += "\n  " + b;
    throw Error(msg);
  }
}

bool is_one_of(const std::string& v, std::initializer_list<const char*> options) {
  for (const char* o : options)
    if (v == o) return true;
  return false;
}

}  // namespace

// ---- derived sizes ---------------------------------------------------------------------------------------------

bool Config::vit_block_is_global(int block) const {
  return std::find(vit.global_att_blocks.begin(), vit.global_att_blocks.end(), block) != vit.global_att_blocks.end();
}

std::vector<int> Config::vit_window_block_indices() const {
  std::vector<int> out;
  for (int i = 0; i < vit.depth; ++i)
    if (!vit_block_is_global(i)) out.push_back(i);
  return out;
}

std::vector<int> Config::fpn_sizes_all() const {
  // ref: sam3/model/necks.py (Sam3DualViTDetNeck: ConvTranspose 2x2/s2 per doubling, MaxPool 2x2/s2 for 0.5)
  std::vector<int> out;
  for (double s : neck.scale_factors) {
    const int g = vit_grid();
    out.push_back(s >= 1.0 ? static_cast<int>(g * s) : g / 2);
  }
  return out;
}

PvsConfig Config::pvs() const {
  if (pvs_section) return *pvs_section;
  PvsConfig p;
  p.prompt_embed_dim = d_model;
  p.image_embedding_size = vit_grid();
  p.low_res_mask_size = 4 * vit_grid();
  const double f = p.low_res_mask_size / 288.0;
  p.max_hole_area = 256.0 * f * f;
  return p;
}

// ---- presets ---------------------------------------------------------------------------------------------------

std::vector<std::string> config_preset_names() { return {"sam3"}; }

Config config_preset(const std::string& name) {
  // The member initialisers of config.h are the official SAM 3 image model (golden/full_config.json, whose "name"
  // is "full": the fixtures' label for the same model).
  if (name == "sam3") return Config{};
  std::string known;
  for (const auto& n : config_preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown config preset '" + name + "' (known: " + known + ")");
}

// ---- JSON ------------------------------------------------------------------------------------------------------

Config parse_config(const std::string& json_text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    throw Error(source + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object()) throw Error(source + ": a config document must be a JSON object");
  const auto config_it = doc.find("config");
  const bool is_document = config_it != doc.end();
  const Config c = config_from_object(is_document ? *config_it : doc, source);
  try {
    validate_config(c);
  } catch (const Error& e) {
    throw Error(source + ": " + e.what());
  }
  if (is_document)
    if (auto d = doc.find("derived"); d != doc.end()) check_derived(c, *d, source);
  return c;
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error("cannot read config file '" + path + "'");
  return parse_config(ss.str(), path);
}

std::string config_to_json(const Config& config, int indent) { return config_json(config).dump(indent); }

bool operator==(const Config& a, const Config& b) { return config_json(a) == config_json(b); }

// ---- validation ------------------------------------------------------------------------------------------------

void validate_config(const Config& c) {
  std::vector<std::string> bad;
  auto require = [&](bool ok, const std::string& key, const std::string& what) {
    if (!ok) bad.push_back(key + ": " + what);
  };
  auto positive = [&](int v, const std::string& key) { require(v > 0, key, "must be > 0, is " + std::to_string(v)); };
  auto divides = [&](int d, int n, const std::string& key, const std::string& n_key) {
    if (d > 0 && n % d != 0)
      bad.push_back(key + " (" + std::to_string(d) + ") must divide " + n_key + " (" + std::to_string(n) + ")");
  };
  // Switches whose non-official value sam3.cpp does not implement: they must keep the official value.
  const Config off;
  auto official = [&](const auto& v, const auto& ref, const std::string& key) {
    if (v != ref)
      bad.push_back(key + ": only the official value " + json(ref).dump() + " is supported by sam3.cpp, got " +
                    json(v).dump());
  };

  // top level
  require(!c.name.empty(), "name", "must not be empty");
  positive(c.d_model, "d_model");
  require(c.resolution == c.vit.img_size, "resolution",
          "must equal vit.img_size (" + std::to_string(c.vit.img_size) + "), is " + std::to_string(c.resolution));
  require(c.patch_size == c.vit.patch_size, "patch_size",
          "must equal vit.patch_size (" + std::to_string(c.vit.patch_size) + "), is " + std::to_string(c.patch_size));

  // vit — ref: sam3/model/vitdet.py (ViT.__init__)
  const VitConfig& v = c.vit;
  positive(v.img_size, "vit.img_size");
  positive(v.patch_size, "vit.patch_size");
  positive(v.pretrain_img_size, "vit.pretrain_img_size");
  positive(v.embed_dim, "vit.embed_dim");
  positive(v.depth, "vit.depth");
  positive(v.num_heads, "vit.num_heads");
  positive(v.window_size, "vit.window_size");
  divides(v.patch_size, v.img_size, "vit.patch_size", "vit.img_size");
  divides(v.patch_size, v.pretrain_img_size, "vit.patch_size", "vit.pretrain_img_size");
  divides(v.num_heads, v.embed_dim, "vit.num_heads", "vit.embed_dim");
  require(v.mlp_ratio > 0 && c.vit_mlp_hidden() > 0, "vit.mlp_ratio", "must give a positive MLP width");
  require(v.layer_norm_eps > 0, "vit.layer_norm_eps", "must be > 0");
  require(v.rope_theta > 0, "vit.rope_theta", "must be > 0");
  require(v.drop_path_rate >= 0, "vit.drop_path_rate", "must be >= 0");
  if (v.num_heads > 0 && v.embed_dim % v.num_heads == 0 && v.use_rope)
    require(c.vit_head_dim() % 4 == 0, "vit.num_heads",
            "2-D RoPE needs a head dim divisible by 4 (embed_dim / num_heads = " + std::to_string(c.vit_head_dim()) +
                ")");
  if (v.patch_size > 0 && v.window_size > 0)
    require(v.window_size <= c.vit_grid() || c.vit_window_block_indices().empty(), "vit.window_size",
            "must not exceed the token grid (" + std::to_string(c.vit_grid()) + ")");
  {
    std::set<int> seen;
    for (int b : v.global_att_blocks) {
      require(b >= 0 && b < v.depth, "vit.global_att_blocks",
              "block " + std::to_string(b) + " is outside [0, depth=" + std::to_string(v.depth) + ")");
      require(seen.insert(b).second, "vit.global_att_blocks", "block " + std::to_string(b) + " is listed twice");
    }
  }
  official(v.rel_pos_blocks, off.vit.rel_pos_blocks, "vit.rel_pos_blocks");
  official(v.retain_cls_token, off.vit.retain_cls_token, "vit.retain_cls_token");
  official(v.use_abs_pos, off.vit.use_abs_pos, "vit.use_abs_pos");
  official(v.tile_abs_pos, off.vit.tile_abs_pos, "vit.tile_abs_pos");
  official(v.use_rope, off.vit.use_rope, "vit.use_rope");
  official(v.use_interp_rope, off.vit.use_interp_rope, "vit.use_interp_rope");
  official(v.ln_pre, off.vit.ln_pre, "vit.ln_pre");
  official(v.ln_post, off.vit.ln_post, "vit.ln_post");
  official(v.qkv_bias, off.vit.qkv_bias, "vit.qkv_bias");
  official(v.bias_patch_embed, off.vit.bias_patch_embed, "vit.bias_patch_embed");

  // neck — ref: sam3/model/necks.py (Sam3DualViTDetNeck.__init__); SAM3VLBackbone(scalp)
  const int n_levels = static_cast<int>(c.neck.scale_factors.size());
  require(n_levels > 0, "neck.scale_factors", "must not be empty");
  for (double s : c.neck.scale_factors) {
    require(s == 4.0 || s == 2.0 || s == 1.0 || s == 0.5, "neck.scale_factors",
            "scale " + json(s).dump() + " is not one of 4.0, 2.0, 1.0, 0.5");
    if (s == 4.0) divides(4, v.embed_dim, "4 (the 4.0 level's channel divisor)", "vit.embed_dim");
    if (s == 2.0) divides(2, v.embed_dim, "2 (the 2.0 level's channel divisor)", "vit.embed_dim");
  }
  require(c.neck.scalp >= 0 && c.neck.scalp < n_levels, "neck.scalp",
          "must be in [0, " + std::to_string(n_levels) + "), is " + std::to_string(c.neck.scalp));
  official(c.neck.scale_factors, off.neck.scale_factors, "neck.scale_factors");
  official(c.neck.scalp, off.neck.scalp, "neck.scalp");

  // sine position encoding — ref: sam3/model/position_encoding.py (PositionEmbeddingSine)
  require(c.pos_enc.num_pos_feats == c.d_model, "pos_enc.num_pos_feats",
          "must equal d_model (" + std::to_string(c.d_model) + "), is " + std::to_string(c.pos_enc.num_pos_feats));
  divides(4, c.pos_enc.num_pos_feats, "4 (sin/cos pairs per axis)", "pos_enc.num_pos_feats");
  positive(c.pos_enc.temperature, "pos_enc.temperature");
  official(c.pos_enc.normalize, off.pos_enc.normalize, "pos_enc.normalize");

  // text — ref: sam3/model/text_encoder_ve.py (VETextEncoder, TextTransformer)
  positive(c.text.width, "text.width");
  positive(c.text.heads, "text.heads");
  positive(c.text.layers, "text.layers");
  positive(c.text.context_length, "text.context_length");
  positive(c.text.vocab_size, "text.vocab_size");
  positive(c.text.text_projection_dim, "text.text_projection_dim");
  divides(c.text.heads, c.text.width, "text.heads", "text.width");
  require(c.text.mlp_ratio > 0 && c.text_mlp_hidden() > 0, "text.mlp_ratio", "must give a positive MLP width");

  // fusion encoder — ref: sam3/model/encoder.py (TransformerEncoderFusion)
  positive(c.encoder.num_layers, "encoder.num_layers");
  positive(c.encoder.num_heads, "encoder.num_heads");
  positive(c.encoder.dim_feedforward, "encoder.dim_feedforward");
  divides(c.encoder.num_heads, c.d_model, "encoder.num_heads", "d_model");
  official(c.encoder.activation, off.encoder.activation, "encoder.activation");
  official(c.encoder.pre_norm, off.encoder.pre_norm, "encoder.pre_norm");
  official(c.encoder.pos_enc_at_attn, off.encoder.pos_enc_at_attn, "encoder.pos_enc_at_attn");
  official(c.encoder.pos_enc_at_cross_attn_keys, off.encoder.pos_enc_at_cross_attn_keys,
           "encoder.pos_enc_at_cross_attn_keys");
  official(c.encoder.pos_enc_at_cross_attn_queries, off.encoder.pos_enc_at_cross_attn_queries,
           "encoder.pos_enc_at_cross_attn_queries");
  official(c.encoder.add_pooled_text_to_img_feat, off.encoder.add_pooled_text_to_img_feat,
           "encoder.add_pooled_text_to_img_feat");
  official(c.encoder.num_feature_levels, off.encoder.num_feature_levels, "encoder.num_feature_levels");

  // decoder — ref: sam3/model/decoder.py (TransformerDecoder, TransformerDecoderLayer)
  positive(c.decoder.num_layers, "decoder.num_layers");
  positive(c.decoder.num_queries, "decoder.num_queries");
  positive(c.decoder.num_heads, "decoder.num_heads");
  positive(c.decoder.dim_feedforward, "decoder.dim_feedforward");
  divides(c.decoder.num_heads, c.d_model, "decoder.num_heads", "d_model");
  require(is_one_of(c.decoder.boxRPB, {"none", "log", "linear", "both"}), "decoder.boxRPB",
          "must be one of none, log, linear, both; is '" + c.decoder.boxRPB + "'");
  official(c.decoder.activation, off.decoder.activation, "decoder.activation");
  official(c.decoder.boxRPB, off.decoder.boxRPB, "decoder.boxRPB");
  official(c.decoder.presence_token, off.decoder.presence_token, "decoder.presence_token");
  official(c.decoder.box_refine, off.decoder.box_refine, "decoder.box_refine");
  official(c.decoder.use_text_cross_attention, off.decoder.use_text_cross_attention,
           "decoder.use_text_cross_attention");
  // dac and dac_use_selfatt_ln only change training (sam3/model/decoder.py: apply_dac = dac and self.training).

  // scoring — ref: sam3/model/model_misc.py (DotProductScoring, MLP)
  positive(c.scoring.prompt_mlp_hidden, "scoring.prompt_mlp_hidden");
  positive(c.scoring.prompt_mlp_layers, "scoring.prompt_mlp_layers");
  positive(c.scoring.d_proj, "scoring.d_proj");
  require(c.scoring.clamp_max_val > 0, "scoring.clamp_max_val", "must be > 0");

  // segmentation head — ref: sam3/model/maskformer_segmentation.py (PixelDecoder, UniversalSegmentationHead)
  require(c.seg.num_upsampling_stages >= c.fpn_levels_used() - 1, "seg.num_upsampling_stages",
          "must be at least the number of used FPN levels - 1 (" + std::to_string(c.fpn_levels_used() - 1) +
              "), is " + std::to_string(c.seg.num_upsampling_stages));
  positive(c.seg.cross_attend_prompt_heads, "seg.cross_attend_prompt_heads");
  positive(c.seg.groupnorm_groups, "seg.groupnorm_groups");
  divides(c.seg.cross_attend_prompt_heads, c.d_model, "seg.cross_attend_prompt_heads", "d_model");
  divides(c.seg.groupnorm_groups, c.d_model, "seg.groupnorm_groups", "d_model");
  official(c.seg.interpolation_mode, off.seg.interpolation_mode, "seg.interpolation_mode");

  // geometry encoder — ref: sam3/model/geometry_encoders.py (SequenceGeometryEncoder)
  positive(c.geometry.num_layers, "geometry.num_layers");
  positive(c.geometry.num_heads, "geometry.num_heads");
  positive(c.geometry.dim_feedforward, "geometry.dim_feedforward");
  positive(c.geometry.roi_size, "geometry.roi_size");
  divides(c.geometry.num_heads, c.d_model, "geometry.num_heads", "d_model");
  official(c.geometry.activation, off.geometry.activation, "geometry.activation");
  official(c.geometry.add_cls, off.geometry.add_cls, "geometry.add_cls");
  official(c.geometry.add_post_encode_proj, off.geometry.add_post_encode_proj, "geometry.add_post_encode_proj");
  official(c.geometry.encode_boxes_as_points, off.geometry.encode_boxes_as_points, "geometry.encode_boxes_as_points");
  official(c.geometry.pos_enc_at_attn, off.geometry.pos_enc_at_attn, "geometry.pos_enc_at_attn");
  official(c.geometry.pos_enc_at_cross_attn_keys, off.geometry.pos_enc_at_cross_attn_keys,
           "geometry.pos_enc_at_cross_attn_keys");
  official(c.geometry.pos_enc_at_cross_attn_queries, off.geometry.pos_enc_at_cross_attn_queries,
           "geometry.pos_enc_at_cross_attn_queries");

  // interactive head — ref: sam3/sam/prompt_encoder.py, sam3/sam/mask_decoder.py, sam3/sam/transformer.py
  if (c.pvs_section) {
    const PvsConfig& p = *c.pvs_section;
    const PvsConfig po;
    require(p.prompt_embed_dim == c.d_model, "pvs.prompt_embed_dim",
            "must equal d_model (" + std::to_string(c.d_model) + "), is " + std::to_string(p.prompt_embed_dim));
    require(p.image_embedding_size == c.vit_grid(), "pvs.image_embedding_size",
            "must equal the vit grid (" + std::to_string(c.vit_grid()) + "), is " +
                std::to_string(p.image_embedding_size));
    require(p.low_res_mask_size == 4 * p.image_embedding_size, "pvs.low_res_mask_size",
            "must be 4 x pvs.image_embedding_size, is " + std::to_string(p.low_res_mask_size));
    divides(8, p.prompt_embed_dim, "8 (the upscaled mask embedding's channel divisor)", "pvs.prompt_embed_dim");
    divides(4, p.mask_in_chans, "4 (the first mask-downscaling conv's divisor)", "pvs.mask_in_chans");
    positive(p.mask_in_chans, "pvs.mask_in_chans");
    positive(p.num_multimask_outputs, "pvs.num_multimask_outputs");
    const TwoWayTransformerConfig& t = p.two_way_transformer;
    positive(t.depth, "pvs.two_way_transformer.depth");
    positive(t.num_heads, "pvs.two_way_transformer.num_heads");
    positive(t.mlp_dim, "pvs.two_way_transformer.mlp_dim");
    positive(t.attention_downsample_rate, "pvs.two_way_transformer.attention_downsample_rate");
    if (t.attention_downsample_rate > 0) {
      divides(t.attention_downsample_rate, p.prompt_embed_dim, "pvs.two_way_transformer.attention_downsample_rate",
              "pvs.prompt_embed_dim");
      divides(t.num_heads, p.prompt_embed_dim / t.attention_downsample_rate, "pvs.two_way_transformer.num_heads",
              "pvs.prompt_embed_dim / attention_downsample_rate");
    }
    divides(t.num_heads, p.prompt_embed_dim, "pvs.two_way_transformer.num_heads", "pvs.prompt_embed_dim");
    require(p.iou_head_depth >= 1, "pvs.iou_head_depth", "must be >= 1");
    positive(p.iou_head_hidden_dim, "pvs.iou_head_hidden_dim");
    require(p.max_hole_area >= 0, "pvs.max_hole_area", "must be >= 0");
    require(p.low_res_logit_clamp > 0, "pvs.low_res_logit_clamp", "must be > 0");
    official(p.pred_obj_scores, po.pred_obj_scores, "pvs.pred_obj_scores");
    official(p.pred_obj_scores_mlp, po.pred_obj_scores_mlp, "pvs.pred_obj_scores_mlp");
    official(p.use_high_res_features, po.use_high_res_features, "pvs.use_high_res_features");
    official(p.max_sprinkle_area, po.max_sprinkle_area, "pvs.max_sprinkle_area");
  }

  if (!bad.empty()) {
    std::string msg = "invalid config '" + c.name + "' (" + std::to_string(bad.size()) + " problem" +
                      (bad.size() == 1 ? "" : "s") + "):";
    for (const auto& b : bad) msg += "\n  " + b;
    throw Error(msg);
  }
}

}  // namespace sam3

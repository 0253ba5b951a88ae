// sam3.cpp — every hyperparameter of the SAM 3 image model. Field names follow the "config" object of the
// fixtures' config documents (../shared/golden/full_config.json, ../shared/golden/tiny/config.json), section by
// section, so a config document maps 1:1 onto this struct.
// ref: sam3/model_builder.py (build_sam3_image_model and the _create_* helpers)
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace sam3 {

struct VitConfig {
  int img_size = 1008;
  int pretrain_img_size = 336;
  int patch_size = 14;
  int embed_dim = 1024;
  int depth = 32;
  int num_heads = 16;
  double mlp_ratio = 4.625;
  bool qkv_bias = true;
  double drop_path_rate = 0.1;  // training only
  bool use_abs_pos = true;
  bool tile_abs_pos = true;
  std::vector<int> global_att_blocks = {7, 15, 23, 31};
  std::vector<int> rel_pos_blocks = {};
  bool use_rope = true;
  bool use_interp_rope = true;
  int window_size = 24;
  bool pretrain_use_cls_token = true;
  bool retain_cls_token = false;
  bool ln_pre = true;
  bool ln_post = false;
  bool bias_patch_embed = false;
  double layer_norm_eps = 1e-5;
  double rope_theta = 10000.0;
};

struct NeckConfig {
  std::vector<double> scale_factors = {4.0, 2.0, 1.0, 0.5};
  int scalp = 1;  // number of lowest-resolution levels dropped
};

struct PosEncConfig {
  int num_pos_feats = 256;
  int temperature = 10000;
  bool normalize = true;
};

struct TextConfig {
  int width = 1024;
  int heads = 16;
  int layers = 24;
  int context_length = 32;
  int vocab_size = 49408;
  double mlp_ratio = 4.0;
  int text_projection_dim = 512;
};

struct EncoderConfig {
  int num_layers = 6;
  int num_heads = 8;
  int dim_feedforward = 2048;
  std::string activation = "relu";
  bool pre_norm = true;
  bool pos_enc_at_attn = true;
  bool pos_enc_at_cross_attn_keys = false;
  bool pos_enc_at_cross_attn_queries = false;
  bool add_pooled_text_to_img_feat = false;
  bool pool_text_with_mask = true;
  int num_feature_levels = 1;
};

struct DecoderConfig {
  int num_layers = 6;
  int num_queries = 200;
  int num_heads = 8;
  int dim_feedforward = 2048;
  std::string activation = "relu";
  std::string boxRPB = "log";
  bool presence_token = true;
  bool dac = true;
  bool dac_use_selfatt_ln = true;
  bool box_refine = true;
  bool use_text_cross_attention = true;
  double clamp_presence_logit_max_val = 10.0;
};

struct ScoringConfig {
  int prompt_mlp_hidden = 2048;
  int prompt_mlp_layers = 2;
  int d_proj = 256;
  double clamp_max_val = 12.0;
};

struct SegConfig {
  int num_upsampling_stages = 3;
  std::string interpolation_mode = "nearest";
  int cross_attend_prompt_heads = 8;
  int groupnorm_groups = 8;
};

struct GeometryConfig {
  int num_layers = 3;
  int num_heads = 8;
  int dim_feedforward = 2048;
  std::string activation = "relu";
  int roi_size = 7;
  bool add_cls = true;
  bool add_post_encode_proj = true;
  bool encode_boxes_as_points = false;
  bool pos_enc_at_attn = false;
  bool pos_enc_at_cross_attn_keys = true;
  bool pos_enc_at_cross_attn_queries = false;
};

// The interactive "SAM 1 task" head (points / box / previous mask -> one object's masks): the SAM prompt encoder,
// the two-way-transformer mask decoder and its post-processing. Values: the official model (the preset `sam3`).
// ref: sam3/model_builder.py (tracker: SAM prompt encoder / mask decoder), sam3/model/sam1_task_predictor.py
struct TwoWayTransformerConfig {
  int depth = 2;
  int num_heads = 8;
  int mlp_dim = 2048;
  int attention_downsample_rate = 2;
};

struct PvsConfig {
  bool enabled = true;             // false: the interactive weights are not loaded even when present
  int prompt_embed_dim = 256;      // = d_model (the SAM2 neck's width)
  int image_embedding_size = 72;   // = the vit grid (the SAM2 neck's level 2)
  int low_res_mask_size = 288;     // = 4 * image_embedding_size
  int mask_in_chans = 16;
  int num_multimask_outputs = 3;
  TwoWayTransformerConfig two_way_transformer;
  int iou_head_depth = 3;
  int iou_head_hidden_dim = 256;
  bool iou_prediction_use_sigmoid = true;
  bool pred_obj_scores = true;
  bool pred_obj_scores_mlp = true;
  bool use_high_res_features = true;
  bool dynamic_multimask_via_stability = true;
  double dynamic_multimask_stability_delta = 0.05;
  double dynamic_multimask_stability_thresh = 0.98;
  double mask_threshold = 0.0;
  double max_hole_area = 256.0;    // low-res pixels (official: 256 at 288 x 288)
  double max_sprinkle_area = 0.0;
  double low_res_logit_clamp = 32.0;
};

struct Config {
  std::string name = "sam3";
  int resolution = 1008;
  int patch_size = 14;
  int d_model = 256;
  VitConfig vit;
  NeckConfig neck;
  PosEncConfig pos_enc;
  TextConfig text;
  EncoderConfig encoder;
  DecoderConfig decoder;
  ScoringConfig scoring;
  SegConfig seg;
  GeometryConfig geometry;
  // The document's "pvs" section when it has one. Absent (full_config.json, tiny/config.json): pvs() derives it from
  // the model's sizes, which for the preset gives the official values listed in PvsConfig.
  std::optional<PvsConfig> pvs_section;

  // The interactive head's config: pvs_section, or the official head scaled to this model (embed dim d_model,
  // embedding size the vit grid, low-res masks 4x that, max_hole_area 256 x (low_res / 288)^2).
  PvsConfig pvs() const;

  // Derived sizes (from the fields above, never from constants). Values: full (tiny).
  int vit_grid() const { return vit.img_size / vit.patch_size; }                 // 72 (tiny: 18)
  int vit_head_dim() const { return vit.embed_dim / vit.num_heads; }             // 64
  int vit_mlp_hidden() const { return static_cast<int>(vit.embed_dim * vit.mlp_ratio); }  // int() truncation: 4736
  int vit_pretrain_grid() const { return vit.pretrain_img_size / vit.patch_size; }  // 24
  int vit_num_tokens() const { return vit_grid() * vit_grid(); }                  // 5184 (324)
  // pos_embed rows: the pretrain grid plus the pretraining cls slot (discarded at run time).
  int vit_pos_embed_tokens() const {                                              // 577 (82)
    return vit_pretrain_grid() * vit_pretrain_grid() + (vit.pretrain_use_cls_token ? 1 : 0);
  }
  bool vit_block_is_global(int block) const;                                      // 7, 15, 23, 31 (1, 3)
  std::vector<int> vit_window_block_indices() const;                              // the other blocks
  int vit_window_pad() const {                                                    // 0: grid % window == 0
    return (vit.window_size - vit_grid() % vit.window_size) % vit.window_size;
  }
  int vit_windows_per_side() const { return (vit_grid() + vit_window_pad()) / vit.window_size; }  // 3 (3)
  // RoPE: positions of a global block are scaled to the pretraining (window) extent when use_interp_rope.
  // ref: sam3/model/vitdet.py (Attention._setup_rope_freqs: scale_pos = rope_pt_size / input_size)
  double vit_rope_scale_global() const {                                          // 1/3 (1/3)
    return vit.use_interp_rope ? static_cast<double>(vit.window_size) / vit_grid() : 1.0;
  }
  int vit_rope_freqs_per_axis() const { return vit_head_dim() / 4; }              // 16 (4)
  // freqs_cis rows of block `block`: window_size^2 for windowed blocks, grid^2 for global ones.
  int vit_rope_tokens(int block) const {
    return vit_block_is_global(block) ? vit_num_tokens() : vit.window_size * vit.window_size;
  }
  int text_head_dim() const { return text.width / text.heads; }                  // 64 (16)
  int text_mlp_hidden() const { return static_cast<int>(text.width * text.mlp_ratio); }  // 4096 (256)
  // Neck level sizes (side of the square map) for every scale factor, and how many are used (scalp drops the last).
  std::vector<int> fpn_sizes_all() const;                                         // 288,144,72,36 (72,36,18,9)
  int fpn_levels_used() const { return static_cast<int>(neck.scale_factors.size()) - neck.scalp; }  // 3
  int mask_logits_size() const { return fpn_sizes_all().at(0); }                  // 288 (72)
};

// Names of the built-in presets: "sam3" (the official SAM 3 image model, = golden/full_config.json).
std::vector<std::string> config_preset_names();
// The preset called `name`; throws sam3::Error listing the known presets if there is none.
Config config_preset(const std::string& name);

// Parses a config document. Accepted forms: the fixtures' document {"config": {...}, "derived": {...}, ...} (only
// "config" is read; "derived" entries we can compute are cross-checked, every other top-level key is ignored) or a
// bare config object {"name": ..., "vit": {...}, ...}. Keys missing from the object keep the `sam3` preset's value;
// an unknown key or a value of the wrong JSON type throws sam3::Error naming the key path (e.g. "vit.depth") and
// `source`. The result is validated (validate_config).
Config parse_config(const std::string& json_text, const std::string& source = "<config>");
// Reads and parses a config document file (parse_config); errors name the path.
Config load_config_file(const std::string& path);
// The bare config object as JSON text, keys in declaration order (= the fixtures' order). parse_config of it gives
// back an equal Config.
std::string config_to_json(const Config& config, int indent = 1);

// Checks that the sizes are consistent (patch divides the image, heads divide widths, ...) and that every switch
// sam3.cpp does not implement has the official value. Throws one sam3::Error listing every problem, each naming
// its key.
void validate_config(const Config& config);

bool operator==(const Config& a, const Config& b);  // field by field (via the JSON form)
inline bool operator!=(const Config& a, const Config& b) { return !(a == b); }

}  // namespace sam3

// sam3.cpp — every hyperparameter of the SAM 3 image model. Field names follow the "config" object of the
// fixtures' config documents (../shared/golden/full_config.json, ../shared/golden/tiny/config.json), section by
// section, so a config document maps 1:1 onto this struct.
// ref: sam3/model_builder.py (build_sam3_image_model and the _create_* helpers)
#pragma once
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

  // Derived sizes (from the fields above, never from constants).
  int vit_grid() const { return vit.img_size / vit.patch_size; }                 // 72 (tiny: 18)
  int vit_head_dim() const { return vit.embed_dim / vit.num_heads; }             // 64
  int vit_mlp_hidden() const { return static_cast<int>(vit.embed_dim * vit.mlp_ratio); }  // int() truncation: 4736
  int vit_pretrain_grid() const { return vit.pretrain_img_size / vit.patch_size; }  // 24
};

}  // namespace sam3

// sam3.cpp — expected weights of the image model, derived from the config; strict validation.
// The order of keys below is the official checkpoint's (state_dict order of Sam3Image's modules).
#include "model/weights_schema.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "io/weight_file.h"

namespace sam3 {

namespace {

// Appends specs under a key prefix: the C++ twin of a module's state-dict subtree.
class Builder {
 public:
  Builder(std::vector<TensorSpec>* out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}
  Builder sub(const std::string& name) const { return Builder(out_, prefix_ + name + "."); }
  Builder sub(const std::string& name, int index) const { return sub(name + "." + std::to_string(index)); }

  void add(const std::string& name, Shape shape, Init init, float gain = 1.0f, DType dtype = DType::F32) const {
    out_->push_back(TensorSpec{prefix_ + name, std::move(shape), dtype, init, gain});
  }

  // nn.Linear(in, out): weight (out, in), bias (out).
  void linear(const std::string& name, int64_t in, int64_t out, float gain = 1.0f, bool bias = true) const {
    add(name + ".weight", {out, in}, Init::FanIn, gain);
    if (bias) add(name + ".bias", {out}, Init::Bias);
  }
  // nn.Conv2d(in, out, k): weight (out, in, k, k), bias (out).
  void conv(const std::string& name, int64_t in, int64_t out, int64_t k, bool bias = true) const {
    add(name + ".weight", {out, in, k, k}, Init::FanIn);
    if (bias) add(name + ".bias", {out}, Init::Bias);
  }
  // nn.ConvTranspose2d(in, out, k): weight (in, out, k, k), bias (out).
  void conv_transpose(const std::string& name, int64_t in, int64_t out, int64_t k) const {
    add(name + ".weight", {in, out, k, k}, Init::FanInDim0);
    add(name + ".bias", {out}, Init::Bias);
  }
  // nn.LayerNorm(d) / nn.GroupNorm(g, d): weight (d), bias (d).
  void norm(const std::string& name, int64_t d) const {
    add(name + ".weight", {d}, Init::NormWeight);
    add(name + ".bias", {d}, Init::NormBias);
  }
  // nn.MultiheadAttention(d): in_proj_weight (3d, d) = [W_q; W_k; W_v], in_proj_bias (3d), out_proj (d -> d).
  void mha(const std::string& name, int64_t d) const {
    add(name + ".in_proj_weight", {3 * d, d}, Init::FanInQK);
    add(name + ".in_proj_bias", {3 * d}, Init::Bias);
    sub(name).linear("out_proj", d, d, kOutProjGain);
  }
  // model_misc.MLP(in, hidden, out, n): layers.{0..n-1}, plus out_norm if given.
  // ref: sam3/model/model_misc.py (MLP.__init__)
  void mlp(const std::string& name, int64_t in, int64_t hidden, int64_t out, int n_layers,
           float last_gain = 1.0f) const {
    const Builder m = sub(name);
    for (int i = 0; i < n_layers; ++i) {
      const int64_t a = i == 0 ? in : hidden;
      const int64_t b = i == n_layers - 1 ? out : hidden;
      m.sub("layers").linear(std::to_string(i), a, b, i == n_layers - 1 ? last_gain : 1.0f);
    }
  }

  static constexpr float kOutProjGain = 0.3f;  // golden init: attention_out_proj_gain

 private:
  std::vector<TensorSpec>* out_;
  std::string prefix_;
};

// ref: sam3/model/vitdet.py (ViT.__init__, Block, Attention)
void vit_trunk(const Config& c, const Builder& b) {
  const VitConfig& v = c.vit;
  const int64_t C = v.embed_dim;
  if (v.use_abs_pos) b.add("pos_embed", {1, c.vit_pos_embed_tokens(), C}, Init::PosEmbed);
  b.add("patch_embed.proj.weight", {C, 3, v.patch_size, v.patch_size}, Init::FanIn);
  if (v.bias_patch_embed) b.add("patch_embed.proj.bias", {C}, Init::Bias);
  for (int i = 0; i < v.depth; ++i) {
    const Builder blk = b.sub("blocks", i);
    blk.norm("norm1", C);
    if (v.use_rope) blk.add("attn.freqs_cis", {c.vit_rope_tokens(i), c.vit_head_dim() / 2}, Init::Rope, 1.0f, DType::C64);
    blk.add("attn.qkv.weight", {3 * C, C}, Init::FanInQK);
    if (v.qkv_bias) blk.add("attn.qkv.bias", {3 * C}, Init::Bias);
    blk.sub("attn").linear("proj", C, C, Builder::kOutProjGain);
    blk.norm("norm2", C);
    blk.sub("mlp").linear("fc1", C, c.vit_mlp_hidden());
    blk.sub("mlp").linear("fc2", c.vit_mlp_hidden(), C);
  }
  if (v.ln_pre) b.norm("ln_pre", C);
  if (v.ln_post) b.norm("ln_post", C);
}

// ref: sam3/model/necks.py (Sam3DualViTDetNeck.__init__)
void neck_convs(const Config& c, const Builder& b) {
  const int64_t dim = c.vit.embed_dim;
  for (size_t i = 0; i < c.neck.scale_factors.size(); ++i) {
    const double s = c.neck.scale_factors[i];
    const Builder lvl = b.sub(std::to_string(i));
    int64_t out_dim = dim;
    if (s == 4.0) {
      lvl.conv_transpose("dconv_2x2_0", dim, dim / 2, 2);
      lvl.conv_transpose("dconv_2x2_1", dim / 2, dim / 4, 2);
      out_dim = dim / 4;
    } else if (s == 2.0) {
      lvl.conv_transpose("dconv_2x2", dim, dim / 2, 2);
      out_dim = dim / 2;
    }
    lvl.conv("conv_1x1", out_dim, c.d_model, 1);
    lvl.conv("conv_3x3", c.d_model, c.d_model, 3);
  }
}

// ref: sam3/model/text_encoder_ve.py (VETextEncoder, TextTransformer, ResidualAttentionBlock)
void language_backbone(const Config& c, const Builder& b) {
  const TextConfig& t = c.text;
  const Builder enc = b.sub("encoder");
  enc.add("positional_embedding", {t.context_length, t.width}, Init::PosEmbed);
  enc.add("text_projection", {t.width, t.text_projection_dim}, Init::FanInDim0);
  enc.add("token_embedding.weight", {t.vocab_size, t.width}, Init::Embedding);
  for (int i = 0; i < t.layers; ++i) {
    const Builder blk = enc.sub("transformer.resblocks", i);
    blk.mha("attn", t.width);
    blk.norm("ln_1", t.width);
    blk.norm("ln_2", t.width);
    blk.sub("mlp").linear("c_fc", t.width, c.text_mlp_hidden());
    blk.sub("mlp").linear("c_proj", c.text_mlp_hidden(), t.width);
  }
  enc.norm("ln_final", t.width);
  b.linear("resizer", t.width, c.d_model);
}

// ref: sam3/model/encoder.py (TransformerEncoderLayer: self_attn, cross_attn_image, linear1/2, norm1..3)
void encoder_layer(const Builder& l, int64_t d, int64_t ff) {
  l.mha("self_attn", d);
  l.mha("cross_attn_image", d);
  l.linear("linear1", d, ff);
  l.linear("linear2", ff, d);
  l.norm("norm1", d);
  l.norm("norm2", d);
  l.norm("norm3", d);
}

// ref: sam3/model/geometry_encoders.py (SequenceGeometryEncoder.__init__)
void geometry_encoder(const Config& c, const Builder& b) {
  const GeometryConfig& g = c.geometry;
  const int64_t d = c.d_model;
  b.add("label_embed.weight", {2, d}, Init::Embedding);
  if (g.add_cls) b.add("cls_embed.weight", {1, d}, Init::Embedding);
  b.linear("points_direct_project", 2, d);
  b.linear("points_pool_project", d, d);
  b.linear("points_pos_enc_project", d, d);
  b.linear("boxes_direct_project", 4, d);
  b.conv("boxes_pool_project", d, d, g.roi_size);
  b.linear("boxes_pos_enc_project", d + 2, d);
  if (g.add_post_encode_proj) {
    b.linear("final_proj", d, d);
    b.norm("norm", d);
  }
  b.norm("img_pre_norm", d);
  for (int i = 0; i < g.num_layers; ++i) encoder_layer(b.sub("encode", i), d, g.dim_feedforward);
  b.norm("encode_norm", d);
}

// ref: sam3/model/decoder.py (TransformerDecoderLayer.__init__, TransformerDecoder.__init__)
void decoder(const Config& c, const Builder& b) {
  const DecoderConfig& dc = c.decoder;
  const int64_t d = c.d_model;
  for (int i = 0; i < dc.num_layers; ++i) {
    const Builder l = b.sub("layers", i);
    l.mha("cross_attn", d);
    l.norm("norm1", d);
    l.mha("ca_text", d);
    l.norm("catext_norm", d);
    l.mha("self_attn", d);
    l.norm("norm2", d);
    l.linear("linear1", d, dc.dim_feedforward);
    l.linear("linear2", dc.dim_feedforward, d);
    l.norm("norm3", d);
  }
  b.norm("norm", d);
  b.mlp("bbox_embed", d, d, 4, 3, /*last_gain=*/0.25f);  // golden init: bbox_embed_last_layer_gain
  b.add("query_embed.weight", {dc.num_queries, d}, Init::Embedding);
  b.add("reference_points.weight", {dc.num_queries, 4}, Init::Embedding);
  b.mlp("boxRPB_embed_x", 2, d, dc.num_heads, 2);
  b.mlp("boxRPB_embed_y", 2, d, dc.num_heads, 2);
  b.add("presence_token.weight", {1, d}, Init::Embedding);
  b.mlp("presence_token_head", d, d, 1, 3);
  b.norm("presence_token_out_norm", d);
  b.mlp("ref_point_head", 2 * d, d, d, 2);
}

// ref: sam3/model/maskformer_segmentation.py (PixelDecoder, UniversalSegmentationHead, MaskPredictor)
void segmentation_head(const Config& c, const Builder& b) {
  const int64_t d = c.d_model;
  const Builder pd = b.sub("pixel_decoder");
  for (int i = 0; i < c.seg.num_upsampling_stages; ++i) pd.sub("conv_layers").conv(std::to_string(i), d, d, 3);
  for (int i = 0; i < c.seg.num_upsampling_stages; ++i) pd.sub("norms").norm(std::to_string(i), d);
  b.sub("mask_predictor").mlp("mask_embed", d, d, d, 3);
  b.mha("cross_attend_prompt", d);
  b.norm("cross_attn_norm", d);
  b.conv("semantic_seg_head", d, 1, 1);
  b.conv("instance_seg_head", d, d, 1);
}

// ref: sam3/model/model_misc.py (DotProductScoring.__init__)
void dot_prod_scoring(const Config& c, const Builder& b) {
  const int64_t d = c.d_model;
  const Builder pm = b.sub("prompt_mlp");
  for (int i = 0; i < c.scoring.prompt_mlp_layers; ++i) {
    const int64_t a = i == 0 ? d : c.scoring.prompt_mlp_hidden;
    const int64_t o = i == c.scoring.prompt_mlp_layers - 1 ? d : c.scoring.prompt_mlp_hidden;
    pm.sub("layers").linear(std::to_string(i), a, o);
  }
  pm.norm("out_norm", d);
  b.linear("prompt_proj", d, c.scoring.d_proj);
  b.linear("hs_proj", d, c.scoring.d_proj);
}

std::string describe(const TensorSpec& s) { return shape_str(s.shape) + " " + dtype_name(s.dtype); }

}  // namespace

std::vector<TensorSpec> expected_tensors(const Config& config) {
  validate_config(config);
  std::vector<TensorSpec> out;
  const Builder root(&out, "");
  vit_trunk(config, root.sub("backbone.vision_backbone.trunk"));
  neck_convs(config, root.sub("backbone.vision_backbone.convs"));
  language_backbone(config, root.sub("backbone.language_backbone"));
  geometry_encoder(config, root.sub("geometry_encoder"));
  for (int i = 0; i < config.encoder.num_layers; ++i)
    encoder_layer(root.sub("transformer.encoder.layers", i), config.d_model, config.encoder.dim_feedforward);
  decoder(config, root.sub("transformer.decoder"));
  segmentation_head(config, root.sub("segmentation_head"));
  dot_prod_scoring(config, root.sub("dot_prod_scoring"));
  return out;
}

bool is_rope_buffer(const std::string& name) {
  static constexpr char kPrefix[] = "backbone.vision_backbone.trunk.blocks.";
  static constexpr char kSuffix[] = ".attn.freqs_cis";
  const size_t np = sizeof(kPrefix) - 1, ns = sizeof(kSuffix) - 1;
  return name.size() > np + ns && name.compare(0, np, kPrefix) == 0 &&
         name.compare(name.size() - ns, ns, kSuffix) == 0;
}

int64_t count_parameters(const std::vector<TensorSpec>& specs) {
  int64_t n = 0;
  for (const TensorSpec& s : specs)
    if (!is_rope_buffer(s.name)) n += shape_numel(s.shape);
  return n;
}

Tensor vit_rope_table(const Config& config, int block) {
  // ref: sam3/model/vitdet.py (compute_axial_cis, init_t_xy)
  //   freqs = 1 / theta ** (arange(0, dim, 4)[:dim/4].float() / dim)         (float32)
  //   t = arange(n*n); t_x = (t % n) * scale; t_y = (t // n) * scale          (float32)
  //   freqs_cis = cat(polar(1, outer(t_x, freqs)), polar(1, outer(t_y, freqs)), -1)
  if (block < 0 || block >= config.vit.depth)
    throw Error("vit_rope_table: block " + std::to_string(block) + " outside [0, " +
                std::to_string(config.vit.depth) + ")");
  const int dim = config.vit_head_dim();
  const int nf = dim / 4;
  const bool global = config.vit_block_is_global(block);
  const int n = global ? config.vit_grid() : config.vit.window_size;
  const float scale = static_cast<float>(global ? config.vit_rope_scale_global() : 1.0);
  std::vector<float> freqs(nf);
  for (int k = 0; k < nf; ++k) {
    const float e = static_cast<float>(4 * k) / static_cast<float>(dim);
    const float p = static_cast<float>(std::pow(config.vit.rope_theta, static_cast<double>(e)));
    freqs[k] = 1.0f / p;
  }
  Tensor out = Tensor::empty({static_cast<int64_t>(n) * n, 2 * nf}, DType::C64);
  float* o = static_cast<float*>(out.raw());  // (tokens, 2*nf) complex = (tokens, 2*nf, 2) float
  for (int t = 0; t < n * n; ++t) {
    const float px = static_cast<float>(t % n) * scale;
    const float py = static_cast<float>(t / n) * scale;
    for (int j = 0; j < 2 * nf; ++j) {
      const float angle = (j < nf ? px : py) * freqs[j % nf];
      // float cos/sin (torch.polar on float32): with glibc this reproduces the official tables bit for bit.
      o[(static_cast<size_t>(t) * 2 * nf + j) * 2 + 0] = std::cos(angle);
      o[(static_cast<size_t>(t) * 2 * nf + j) * 2 + 1] = std::sin(angle);
    }
  }
  return out;
}

std::vector<std::string> weight_problems(const Config& config, const std::map<std::string, Tensor>& tensors) {
  const std::vector<TensorSpec> specs = expected_tensors(config);
  std::vector<std::string> missing, mismatched, extra;
  std::set<std::string> expected_names;
  for (const TensorSpec& s : specs) {
    expected_names.insert(s.name);
    auto it = tensors.find(s.name);
    if (it == tensors.end()) {
      missing.push_back("missing: " + s.name + " (expected " + describe(s) + ")");
      continue;
    }
    const Tensor& t = it->second;
    if (t.shape() != s.shape || t.dtype() != s.dtype)
      mismatched.push_back(std::string(t.shape() != s.shape ? "wrong shape" : "wrong dtype") + ": " + s.name + " is " +
                           shape_str(t.shape()) + " " + dtype_name(t.dtype()) + ", expected " + describe(s));
  }
  for (const auto& [name, t] : tensors)
    if (!expected_names.count(name))
      extra.push_back("unexpected: " + name + " (" + shape_str(t.shape()) + " " + dtype_name(t.dtype()) +
                      ", not part of the image model)");
  std::vector<std::string> all;
  for (auto* group : {&missing, &mismatched, &extra}) all.insert(all.end(), group->begin(), group->end());
  return all;
}

void validate_weights(const Config& config, const std::map<std::string, Tensor>& tensors, const std::string& source) {
  const std::vector<std::string> problems = weight_problems(config, tensors);
  if (problems.empty()) return;
  std::string msg = source + " does not match config '" + config.name + "' (" + std::to_string(problems.size()) +
                    " problem" + (problems.size() == 1 ? "" : "s") + "):";
  for (const std::string& p : problems) msg += "\n  " + p;
  throw Error(msg);
}

void validate_weights(const Config& config, const WeightFile& file) {
  validate_weights(config, file.tensors, file.format.empty() ? std::string("weights") : file.format + " weights");
}

}  // namespace sam3

// sam3.cpp — Model: load (weights + config + checks), encode, embeddings.
#include "api/convert.h"
#include "api/internal.h"
#include "core/dump.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"
#include "core/timer.h"
#include "io/converted_format.h"
#include "model/weights_schema.h"
#include "nn/params.h"

namespace sam3 {

ModelParams model_default_params() { return ModelParams{}; }
EncodeParams encode_default_params() { return EncodeParams{}; }

int resolve_threads(int n_threads) { return n_threads > 0 ? n_threads : default_thread_count(); }

// int8 is for the image encoder only: in the per-prompt modules it cost mask accuracy (docs/precision.md), so
// they run bf16 where that is fast here, else f32.
PrecisionPlan precision_plan(Precision p) {
  if (p != Precision::Int8) return PrecisionPlan{p, p};
  return PrecisionPlan{p, ops::has_fast_kernel(Precision::BF16) ? Precision::BF16 : Precision::F32};
}

PrecisionSupport precision_support() {
  PrecisionSupport s;
  s.isa = ops::matmul_isa();
  s.auto_precision = precision_name(resolve_dtype("auto"));
  s.bf16_fast = ops::has_fast_kernel(Precision::BF16);
  s.int8_fast = ops::has_fast_kernel(Precision::Int8);
  return s;
}

Precision resolve_dtype(const std::string& dtype) {
  if (dtype == "auto" || dtype.empty()) return ops::has_fast_kernel(Precision::BF16) ? Precision::BF16 : Precision::F32;
  Precision p;
  if (!precision_from_name(dtype, &p)) throw Error("unknown dtype '" + dtype + "' (expected f32, bf16, int8 or auto)");
  return p;
}

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::~Model() = default;
const Model::Impl& Model::impl() const { return *impl_; }
const std::string& Model::config_name() const { return impl_->config.name; }
int Model::input_size() const { return impl_->config.vit.img_size; }
double Model::load_seconds() const { return impl_->load_seconds; }

namespace {

// The config of a converted file: its own (metadata "config"); a --config must describe the same model (its name
// may differ: a label).
Config converted_config(const ConvertedFormat& format, const std::string& path, const std::string& config_path) {
  const Config stored = parse_config(format.config_json, path + " (metadata 'config')");
  if (config_path.empty()) return stored;
  Config given = load_config_file(config_path);
  Config same_name = stored;
  same_name.name = given.name;
  if (!(same_name == given))
    throw Error("config " + config_path + " ('" + given.name + "') disagrees with the config stored in " + path +
                " ('" + stored.name + "', which it was converted for): leave --config out, or convert the original "
                "checkpoint with this config");
  return given;
}

}  // namespace

std::shared_ptr<const Model> Model::load(const std::string& weights_path, const ModelParams& params) {
  const Stopwatch sw;
  std::shared_ptr<Model> m(new Model());
  Impl& d = *m->impl_;
  d.path = weights_path;
  d.weights = load_weight_file(weights_path);
  ConvertedFormat converted;
  const bool is_converted = read_converted_format(d.weights.metadata, weights_path, &converted);
  if (is_converted) {
    d.config = converted_config(converted, weights_path, params.config_path);
  } else if (!params.config_path.empty()) {
    d.config = load_config_file(params.config_path);
  } else if (auto it = d.weights.metadata.find("config"); it != d.weights.metadata.end()) {
    d.config = parse_config(it->second, weights_path + " (metadata 'config')");
  } else {
    d.config = config_preset("sam3");
  }
  d.precision = is_converted ? converted_precision(converted, params.dtype, weights_path) : resolve_dtype(params.dtype);
  d.isa = ops::matmul_isa();
  if (!ops::has_fast_kernel(d.precision))
    d.precision_note = std::string(precision_name(d.precision)) + " has no fast kernel on this CPU (" + d.isa +
                       "): its products are emulated with f32 ones, slower than f32";
  const PrecisionPlan plan = precision_plan(d.precision);
  if (is_converted) {
    if (params.validate_weights) {
      const std::vector<std::string> problems = converted_weight_problems(d.config, converted, d.weights);
      if (!problems.empty()) {
        std::string msg = weights_path + " (converted to " + converted.dtype + ") does not match config '" +
                          d.config.name + "' (" + std::to_string(problems.size()) + " problem" +
                          (problems.size() == 1 ? "" : "s") + "):";
        for (const std::string& p : problems) msg += "\n  " + p;
        throw Error(msg);
      }
    }
    prepare_converted(d.config, plan, d.weights);
  } else if (params.validate_weights) {
    validate_weights(d.config, d.weights);
  }
  // Layers converted at load give their source pages back as they are packed (WeightFile::release), so the f32
  // weights read for the conversion do not stay resident next to the packed copies.
  const WeightFile& wf = d.weights;
  d.sam3 = std::make_unique<const Sam3Image>(
      d.config, nn::ParamScope(d.weights.tensors, weights_path, "", [&wf](const Tensor& t) { wf.release(t); }), plan);
  load_pick_head(d);
  d.load_seconds = sw.seconds();
  return m;
}

ImageEmbedding Model::load_embedding(const std::string& path) const {
  auto impl = std::make_shared<ImageEmbedding::Impl>();
  impl->features = load_image_features(path, impl_->config);
  return ImageEmbedding(std::move(impl));
}

ImageEmbedding encode_preprocessed(const Model& model, const Tensor& input, int image_height, int image_width,
                                   Arena& scratch, const EncodeParams& params, double preprocess_ms) {
  const Stopwatch sw;
  const Model::Impl& m = model.impl();
  const ImageEncoder& enc = m.sam3->image_encoder();
  if (image_height <= 0 || image_width <= 0) throw Error("encode: empty image");
  if (scratch.capacity() < enc.scratch_bytes()) scratch = Arena(enc.scratch_bytes(), scratch.growth());
  Dumper dump = params.dump_dir.empty() ? Dumper::from_env() : Dumper(params.dump_dir);
  auto impl = std::make_shared<ImageEmbedding::Impl>();
  impl->features.config_name = m.config.name;
  impl->features.image_height = image_height;
  impl->features.image_width = image_width;
  EncoderTimings t;
  if (params.progress) params.progress(0.0f);
  const RunContext ctx{resolve_threads(params.n_threads), &scratch, &dump};
  m.sam3->forward_image(input, impl->features, ctx, &t, params.progress, m.pick != nullptr);
  if (m.pick && params.pick_features) {
    const Stopwatch neck;
    impl->features.pvs = std::make_shared<const PvsFeatures>(m.pick->features(impl->features.trunk, ctx));
    impl->features.trunk = Tensor();
    impl->timings.pick_neck_ms = neck.ms();
  }
  dump.flush("image");
  EncodeTimings& out = impl->timings;
  out.preprocess_ms = preprocess_ms;
  out.patch_embed_ms = t.vit.patch_embed * 1e3;
  out.window_blocks_ms = t.vit.window_blocks * 1e3;
  out.global_blocks_ms = t.vit.global_blocks * 1e3;
  out.neck_ms = (t.neck + t.vit.output) * 1e3;
  out.total_ms = preprocess_ms + sw.ms();
  return ImageEmbedding(std::move(impl));
}

}  // namespace sam3

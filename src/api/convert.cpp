// sam3.cpp — converted weights: writing them (`sam3 convert`) and checking / preparing them for Model::load (see
// api/convert.h, docs/weights.md "Converted files").
#include "api/convert.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/ops.h"
#include "core/timer.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "model/sam1_task_predictor.h"
#include "model/weights_schema.h"

namespace sam3 {

namespace {

// How a converted file of storage dtype `dtype` holds a tensor of spec `s`.
struct StoredForm {
  DType dtype;
  bool scale;  // I8 with "<key>.scale"
};
StoredForm stored_form(const nn::TensorSpec& s, const std::string& dtype) {
  if (dtype == "f16") return {s.dtype == DType::F32 ? DType::F16 : s.dtype, false};
  if (s.packed == Precision::BF16) return {DType::BF16, false};
  if (s.packed == Precision::Int8) return {DType::I8, true};
  return {s.dtype, false};
}

std::string describe(const Shape& shape, DType dtype) { return shape_str(shape) + " " + dtype_name(dtype); }

// The ViT block of a RoPE table's key "backbone.vision_backbone.trunk.blocks.<i>.attn.freqs_cis".
int rope_block(const std::string& key) {
  static constexpr char kPrefix[] = "backbone.vision_backbone.trunk.blocks.";
  const size_t b = sizeof(kPrefix) - 1, e = key.find('.', b);
  return std::stoi(key.substr(b, e - b));
}

bool has_interactive_head(const WeightFile& file) {
  for (const auto& kv : file.interactive)
    if (kv.first.rfind("tracker.sam_prompt_encoder.", 0) == 0) return true;
  return false;
}

// Problems of `tensors` against `specs` stored as `dtype` describes (missing, wrong form, unexpected). RoPE tables
// are not stored: one present is unexpected.
std::vector<std::string> stored_problems(const std::vector<nn::TensorSpec>& specs, const std::string& dtype,
                                         const std::map<std::string, Tensor>& tensors) {
  std::vector<std::string> missing, mismatched, extra;
  std::set<std::string> known;
  auto check = [&](const std::string& name, const Shape& shape, DType want) {
    known.insert(name);
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      missing.push_back("missing: " + name + " (expected " + describe(shape, want) + ")");
      return;
    }
    const Tensor& t = it->second;
    if (t.shape() != shape || t.dtype() != want)
      mismatched.push_back(std::string(t.shape() != shape ? "wrong shape" : "wrong dtype") + ": " + name + " is " +
                           describe(t.shape(), t.dtype()) + ", expected " + describe(shape, want) + " (" + dtype +
                           " file)");
  };
  for (const nn::TensorSpec& s : specs) {
    if (is_rope_buffer(s.name)) continue;  // computed at load
    const StoredForm f = stored_form(s, dtype);
    check(s.name, s.shape, f.dtype);
    if (f.scale) check(scale_key(s.name), {s.shape.at(0)}, DType::F32);
  }
  for (const auto& [name, t] : tensors)
    if (!known.count(name))
      extra.push_back("unexpected: " + name + " (" + describe(t.shape(), t.dtype()) + ", not part of the " + dtype +
                      " file's model" + (is_rope_buffer(name) ? ": RoPE tables are computed at load" : "") + ")");
  std::vector<std::string> all;
  for (auto* group : {&missing, &mismatched, &extra}) all.insert(all.end(), group->begin(), group->end());
  return all;
}

}  // namespace

PrecisionPlan storage_plan(const std::string& dtype) {
  if (dtype == "bf16") return PrecisionPlan{Precision::BF16, Precision::BF16};
  if (dtype == "int8") return PrecisionPlan{Precision::Int8, Precision::F32};
  if (dtype == "f16") return PrecisionPlan{Precision::F32, Precision::F32};
  throw Error("unknown storage dtype '" + dtype + "' (expected bf16, int8 or f16)");
}

std::vector<nn::TensorSpec> planned_tensors(const Config& config, const PrecisionPlan& plan) {
  validate_config(config);
  nn::WeightCollector collector;
  const Sam3Image model(config, nn::ParamScope(collector), plan);
  return collector.specs();
}

std::vector<std::string> converted_weight_problems(const Config& config, const ConvertedFormat& format,
                                                   const WeightFile& file) {
  std::vector<std::string> problems =
      stored_problems(planned_tensors(config, storage_plan(format.dtype)), format.dtype, file.tensors);
  if (has_interactive_head(file) && config.pvs().enabled)
    for (std::string& p : stored_problems(expected_interactive_tensors(config), format.dtype, file.interactive))
      problems.push_back("interactive " + p);
  return problems;
}

Precision converted_precision(const ConvertedFormat& format, const std::string& dtype, const std::string& path) {
  if (dtype.empty() || dtype == "auto")
    return format.dtype == "bf16" ? Precision::BF16 : format.dtype == "int8" ? Precision::Int8 : Precision::F32;
  Precision p;
  if (!precision_from_name(dtype, &p)) throw Error("unknown dtype '" + dtype + "' (expected f32, bf16, int8 or auto)");
  if (format.dtype == "f16" || format.dtype == precision_name(p)) return p;
  throw Error(path + " holds weights converted to " + format.dtype + " (sam3 convert" +
              (format.source.empty() ? "" : " from " + format.source) + "): it runs --dtype " + format.dtype +
              " (or auto), not " + dtype + ", since its " + format.dtype + " weights cannot give " + dtype +
              " results. For " + dtype + ", load the original checkpoint with --dtype " + dtype +
              (dtype == "f32" ? "" : " or convert it to " + dtype));
}

void prepare_converted(const Config& config, const PrecisionPlan& plan, WeightFile& file) {
  for (const nn::TensorSpec& s : planned_tensors(config, plan)) {
    if (is_rope_buffer(s.name)) {
      file.tensors[s.name] = vit_rope_table(config, rope_block(s.name));
      continue;
    }
    auto it = file.tensors.find(s.name);
    if (it == file.tensors.end() || it->second.dtype() != DType::F16 || s.packed != Precision::F32) continue;
    Tensor f32 = ops::f16_to_f32(it->second);  // a tensor used as it is: f32 in memory (pack_weight reads F16)
    file.release(it->second);
    it->second = std::move(f32);
  }
  for (auto& [name, t] : file.interactive) {  // the interactive head runs f32
    if (t.dtype() != DType::F16) continue;
    Tensor f32 = ops::f16_to_f32(t);
    file.release(t);
    t = std::move(f32);
  }
}

ConvertSummary convert_weights(const std::string& in, const std::string& out, const ConvertOptions& options) {
  const Stopwatch sw;
  const PrecisionPlan plan = storage_plan(options.dtype);  // checks the dtype first
  check_not_an_input(out, {in}, "output");
  WeightFile wf = load_weight_file(in);
  if (ConvertedFormat f; read_converted_format(wf.metadata, in, &f))
    throw Error(in + " is already converted (to " + f.dtype + "): convert the original checkpoint instead");
  ConvertSummary summary;
  Config& config = summary.config;
  if (!options.config_path.empty())
    config = load_config_file(options.config_path);
  else if (auto it = wf.metadata.find("config"); it != wf.metadata.end())
    config = parse_config(it->second, in + " (metadata 'config')");
  else
    config = config_preset("sam3");
  validate_weights(config, wf.tensors, in);  // strictly: every tensor F32 (RoPE C64), the right shapes
  const bool head = has_interactive_head(wf) && config.pvs().enabled;
  if (head) {
    const std::vector<std::string> p = interactive_weight_problems(config, wf.interactive);
    if (!p.empty()) throw Error(in + ": the interactive weights do not match config '" + config.name + "': " + p.front());
  }

  // What to write: the image model's tensors in their stored form, then the interactive ones as they are (f16:
  // their floating-point ones in F16). F32 entries first, then 2-byte, then I8, so that each stays aligned.
  enum class Kind { Copy, Bf16, S8, Scale, F16 };
  struct Item {
    SafetensorsEntry entry;
    const Tensor* src;
    Kind kind;
  };
  std::vector<Item> items;
  const bool f16 = options.dtype == "f16";
  for (const nn::TensorSpec& s : planned_tensors(config, plan)) {
    if (is_rope_buffer(s.name)) continue;  // computed at load
    const Tensor* src = &wf.tensors.at(s.name);
    const StoredForm form = stored_form(s, options.dtype);
    const Kind kind = f16 && form.dtype == DType::F16 ? Kind::F16
                      : form.dtype == DType::BF16      ? Kind::Bf16
                      : form.dtype == DType::I8        ? Kind::S8
                                                       : Kind::Copy;
    items.push_back({{s.name, form.dtype, s.shape}, src, kind});
    if (form.scale) items.push_back({{scale_key(s.name), DType::F32, {s.shape.at(0)}}, src, Kind::Scale});
  }
  for (const auto& [key, t] : wf.interactive) {
    const bool half = f16 && t.dtype() == DType::F32;
    items.push_back({{key, half ? DType::F16 : t.dtype(), t.shape()}, &t, half ? Kind::F16 : Kind::Copy});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return dtype_size(a.entry.dtype) > dtype_size(b.entry.dtype);
  });

  std::vector<SafetensorsEntry> entries;
  for (const Item& it : items) {
    entries.push_back(it.entry);
    summary.bytes_out += static_cast<uint64_t>(shape_numel(it.entry.shape)) * dtype_size(it.entry.dtype);
    summary.reduced += it.kind == Kind::Bf16 || it.kind == Kind::S8 || it.kind == Kind::F16;
  }
  for (const auto& kv : wf.tensors) summary.bytes_in += kv.second.nbytes();
  for (const auto& kv : wf.interactive) summary.bytes_in += kv.second.nbytes();
  summary.tensors = items.size();

  ConvertedFormat format;
  format.dtype = options.dtype;
  format.config_json = config_to_json(config, -1);
  format.source = in;
  format.quantization = converted_quantization(options.dtype);
  // Each source tensor's pages are given back once the next entry is asked for (its bytes are written by then), so
  // converting the full model holds about one tensor at a time.
  const Tensor* previous = nullptr;
  write_safetensors(out, entries, converted_metadata(format), [&](size_t i) -> Tensor {
    if (previous) wf.release(*previous);
    const Item& it = items[i];
    previous = it.src;
    switch (it.kind) {
      case Kind::Copy: return *it.src;
      case Kind::Bf16: return ops::to_bf16(*it.src);
      case Kind::F16: return ops::to_f16(*it.src, "tensor '" + it.entry.name + "' of " + in);
      case Kind::S8: {
        Tensor scale;
        return ops::quantize_s8(*it.src, &scale);
      }
      case Kind::Scale: {
        Tensor scale;
        ops::quantize_s8(*it.src, &scale);
        return scale;
      }
    }
    throw Error("convert: unknown entry kind");
  });
  if (previous) wf.release(*previous);
  summary.seconds = sw.seconds();
  return summary;
}

}  // namespace sam3

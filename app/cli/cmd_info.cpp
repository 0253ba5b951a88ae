// sam3.cpp — `sam3 info MODEL [--config CONFIG.json] [--list] [--list-skipped]`: the config the model is checked
// against, a summary of the file's tensors, the parameter count and the strict validation result; for a file from
// `sam3 convert`, its storage precision, scheme and source, checked against the config it stores (or --config).
// Exit codes: 0 the weights match the config; 1 they do not (every problem listed) or the file cannot be read;
// 2 bad command line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <sys/stat.h>

#include "api/convert.h"
#include "commands.h"
#include "core/error.h"
#include "io/converted_format.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/sam1_task_predictor.h"
#include "model/weights_schema.h"
#include "sam3/sam3.h"

namespace sam3::cli {

namespace {

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

std::string join_ints(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

void print_config(const Config& c, const std::string& origin) {
  std::printf("config:      %s (%s)\n", c.name.c_str(), origin.c_str());
  std::printf("  image      %d px, patch %d -> %dx%d tokens, d_model %d\n", c.vit.img_size, c.vit.patch_size,
              c.vit_grid(), c.vit_grid(), c.d_model);
  std::printf("  vit        %d blocks, width %d, %d heads, mlp %d, window %d, global blocks %s\n", c.vit.depth,
              c.vit.embed_dim, c.vit.num_heads, c.vit_mlp_hidden(), c.vit.window_size,
              join_ints(c.vit.global_att_blocks).c_str());
  std::printf("  text       %d layers, width %d, %d heads, context %d, vocab %d\n", c.text.layers, c.text.width,
              c.text.heads, c.text.context_length, c.text.vocab_size);
  std::printf("  geometry   %d layers; encoder %d layers; decoder %d layers, %d queries; masks %dx%d\n",
              c.geometry.num_layers, c.encoder.num_layers, c.decoder.num_layers, c.decoder.num_queries,
              c.mask_logits_size(), c.mask_logits_size());
}

}  // namespace

int cmd_info(int argc, char** argv) {
  CLI::App app{"Print a checkpoint's config and tensor summary, and check it strictly against the config.",
               "sam3 info"};
  std::string model_path, config_path;
  bool list = false, list_skipped = false;
  app.add_option("MODEL", model_path, "weights: the official sam3.pt (torch zip) or our .safetensors")->required();
  app.add_option("--config", config_path,
                 "config document (JSON, e.g. ../shared/golden/tiny/config.json); default: the preset 'sam3'");
  app.add_flag("--list", list, "list every image-model tensor: name, shape, dtype");
  app.add_flag("--list-skipped", list_skipped, "list the keys that are not part of the image model (skipped)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  const WeightFile wf = load_weight_file(model_path);
  // A converted file (sam3 convert) carries its config: it is the default, and a --config is checked against it.
  ConvertedFormat converted;
  const bool is_converted = read_converted_format(wf.metadata, model_path, &converted);
  const Config stored = is_converted ? parse_config(converted.config_json, model_path + " (metadata 'config')") : Config{};
  const Config config = !config_path.empty() ? load_config_file(config_path)
                        : is_converted       ? stored
                                             : config_preset("sam3");

  struct stat st {};
  const uint64_t file_bytes = ::stat(model_path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  std::printf("model:       %s (%s, %s)\n", model_path.c_str(),
              is_converted ? ("converted " + converted.dtype + " safetensors").c_str()
              : wf.format == "torch" ? "torch checkpoint"
                                     : wf.format.c_str(),
              human_bytes(file_bytes).c_str());
  print_config(config, !config_path.empty() ? config_path : is_converted ? "stored in the file" : "preset");
  if (is_converted) {
    std::printf("format:      sam3 convert, version %d, storage %s%s%s\n", converted.version, converted.dtype.c_str(),
                converted.source.empty() ? "" : ", from ", converted.source.c_str());
    std::printf("  scheme     %s\n", converted.quantization.c_str());
    std::printf("  runs       --dtype %s\n", converted.dtype == "f16" ? "f32 (auto), bf16 or int8, converted at load"
                                                                      : (converted.dtype + " (auto) only").c_str());
  }
  for (const auto& [k, v] : wf.metadata)
    std::printf("metadata:    %s = %s\n", k.c_str(), v.size() > 120 ? (v.substr(0, 117) + "...").c_str() : v.c_str());

  uint64_t bytes = 0, params = 0;
  int rope = 0, scales = 0;
  std::map<std::string, int> per_dtype;
  for (const auto& [name, t] : wf.tensors) {
    bytes += t.nbytes();
    per_dtype[dtype_name(t.dtype())] += 1;
    const size_t n = name.size();
    const bool scale = is_converted && n > 6 && name.compare(n - 6, 6, ".scale") == 0 &&
                       wf.tensors.count(name.substr(0, n - 6)) && wf.tensors.at(name.substr(0, n - 6)).dtype() == DType::I8;
    if (is_rope_buffer(name)) {
      ++rope;
    } else if (scale) {
      ++scales;
    } else {
      params += static_cast<uint64_t>(t.numel());
    }
  }
  std::string dtypes;
  for (const auto& [d, n] : per_dtype) dtypes += (dtypes.empty() ? "" : ", ") + d + " " + with_commas(n);
  std::printf("tensors:     %s image-model tensors, %s skipped\n", with_commas(wf.tensors.size()).c_str(),
              with_commas(wf.skipped.size()).c_str());
  std::printf("  bytes      %s (%s)\n", with_commas(bytes).c_str(), human_bytes(bytes).c_str());
  std::printf("  dtypes     %s\n", dtypes.empty() ? "-" : dtypes.c_str());
  if (is_converted)
    std::printf("parameters:  %s (image model; %d int8 scale tensors not counted, RoPE tables computed at load)\n",
                with_commas(params).c_str(), scales);
  else
    std::printf("parameters:  %s (image model; %d RoPE tables and the skipped keys not counted)\n",
                with_commas(params).c_str(), rope);
  // The interactive head (sam3 pick): there when the file has the prompt encoder (docs/pick.md).
  bool head = false;
  for (const auto& kv : wf.interactive) head = head || kv.first.rfind("tracker.sam_prompt_encoder.", 0) == 0;
  if (head && !is_converted) {
    const std::vector<std::string> p = interactive_weight_problems(config, wf.interactive);
    const std::string verdict =
        p.empty() ? std::string("OK (sam3 pick)") : "FAILED: " + p.front() + (p.size() > 1 ? " (and more)" : "");
    std::printf("interactive: %s tensors (SAM2 neck, prompt encoder, mask decoder): %s\n",
                with_commas(wf.interactive.size()).c_str(), verdict.c_str());
  } else if (head) {
    std::printf("interactive: %s tensors (SAM2 neck, prompt encoder, mask decoder): checked with the rest below\n",
                with_commas(wf.interactive.size()).c_str());
  } else {
    std::printf("interactive: absent (concepts only; sam3 pick needs the interactive head)\n");
  }
  const PrecisionSupport ps = precision_support();
  std::printf("compute:     --dtype auto runs %s here (%s; bf16 %s, int8 %s)\n", ps.auto_precision.c_str(),
              ps.isa.c_str(), ps.bf16_fast ? "native" : "emulated, slower than f32",
              ps.int8_fast ? "native" : "emulated");
  if (list) {
    std::printf("image-model tensors:\n");
    for (const auto& [name, t] : wf.tensors)
      std::printf("  %-90s %-20s %s\n", name.c_str(), shape_str(t.shape()).c_str(), dtype_name(t.dtype()));
  }
  if (list_skipped) {
    std::printf("skipped keys:\n");
    for (const auto& k : wf.skipped) std::printf("  %s\n", k.c_str());
  }

  if (is_converted) {
    std::vector<std::string> problems = converted_weight_problems(config, converted, wf);
    Config renamed = stored;
    renamed.name = config.name;
    if (!(renamed == config))
      problems.insert(problems.begin(), "the config " + config_path + " disagrees with the config stored in the file ('" +
                                            stored.name + "'), which it was converted for");
    if (problems.empty()) {
      std::printf("validation:  OK (every tensor in the form a %s file stores it, no extra)\n", converted.dtype.c_str());
      return 0;
    }
    std::printf("validation:  FAILED (%s problems, listed on stderr)\n", with_commas(problems.size()).c_str());
    std::fflush(stdout);
    std::string msg = model_path + " does not match config '" + config.name + "':";
    for (const std::string& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }
  const std::vector<std::string> problems = weight_problems(config, wf.tensors);
  if (problems.empty()) {
    std::printf("validation:  OK (all %s expected tensors present with the right shape and dtype, no extra)\n",
                with_commas(wf.tensors.size()).c_str());
    return 0;
  }
  std::printf("validation:  FAILED (%s problems, listed on stderr)\n", with_commas(problems.size()).c_str());
  std::fflush(stdout);
  validate_weights(config, wf.tensors, model_path);  // throws the full list; main prints it and exits 1
  return 1;
}

}  // namespace sam3::cli

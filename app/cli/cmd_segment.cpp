// sam3.cpp — `sam3 segment`: segment an image with one or more prompts (texts and/or exemplar boxes) and write the
// result as JSON (COCO RLE masks), an overlay PNG and semantic-mask PNGs. See the help text for how -t and boxes
// combine into prompts.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "model_options.h"
#include "prompt_options.h"
#include "command_image.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/timer.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "io/image_encode.h"
#include "io/overlay.h"
#include "sam3/sam3.h"

namespace sam3::cli {

namespace {

constexpr const char* kOutputHelp = R"(Output: a summary on stdout; -o writes the JSON result (schema: docs/segment.md), "-o -"
prints it on stdout instead of the summary.)";

// "sem.png" -> "sem.2.png" (one file per prompt when there are several).
std::string indexed_path(const std::string& path, size_t i, size_t n) {
  if (n <= 1) return path;
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return path + "." + std::to_string(i);
  return path.substr(0, dot) + "." + std::to_string(i) + path.substr(dot);
}

void write_text_file(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

}  // namespace

int cmd_segment(int argc, char** argv) {
  CLI::App app{"Segment every instance of a concept (text and/or exemplar boxes) in an image.", "sam3 segment"};
  app.footer(std::string(kPromptHelp) + "\n" + kOutputHelp);
  ModelOptions mo;
  std::string image_path, out_path, overlay_path, semantic_path, embedding_path;
  PromptOptions po;
  float threshold = 0.5f;
  int n_threads = default_thread_count();
  app.add_option("-m,--model", mo.path, "checkpoint: the official sam3.pt or a .safetensors file")->required();
  add_model_options(app, mo);
  app.add_option("-i,--image", image_path, "image (JPEG or PNG); may be left out with --embedding");
  po.add_to(app);
  app.add_option("--threshold", threshold, "keep instances with score > T")->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--threads", n_threads, "threads")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("-o,--output", out_path, "write the JSON result here ('-': stdout)");
  app.add_option("--overlay", overlay_path, "write a PNG of the image with masks, boxes and scores");
  app.add_option("--semantic", semantic_path,
                 "write the semantic mask as a PNG (0/255); with several prompts one file each: NAME.<i>.png");
  app.add_option("--embedding", embedding_path, "use an embedding saved by 'sam3 encode' instead of encoding");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (image_path.empty() && embedding_path.empty()) return usage_error("sam3 segment", "give an image (-i) or an embedding (--embedding)");
  if (po.empty()) return usage_error("sam3 segment", "no prompt: give a text (-t) and/or exemplar boxes (--box, --neg-box)");
  if (!overlay_path.empty() && image_path.empty()) return usage_error("sam3 segment", "--overlay needs the image (-i)");
  if (const std::string bad = po.blank_text_error(); !bad.empty()) return usage_error("sam3 segment", bad);
  const std::vector<PixelPrompt> pending = po.prompts(app);

  // Outputs never overwrite an input (or each other); each is written atomically (temporary file + rename).
  {
    const std::vector<std::string> inputs = {mo.path, mo.config_path, image_path, embedding_path};
    std::vector<std::pair<std::string, std::string>> outputs;  // (what, path)
    if (out_path != "-") outputs.emplace_back("-o", out_path);
    outputs.emplace_back("--overlay", overlay_path);
    if (!semantic_path.empty())
      for (size_t i = 0; i < pending.size(); ++i)
        outputs.emplace_back("--semantic", indexed_path(semantic_path, i, pending.size()));
    for (size_t i = 0; i < outputs.size(); ++i) {
      check_not_an_input(outputs[i].second, inputs, "output " + outputs[i].first);
      for (size_t k = 0; k < i; ++k)
        if (!outputs[i].second.empty() && outputs[i].second == outputs[k].second)
          return usage_error("sam3 segment", outputs[k].first + " and " + outputs[i].first + " name the same file '" +
                             outputs[i].second + "'");
    }
  }

  const auto t_all = Clock::now();
  std::fprintf(stderr, "sam3 segment: loading %s ...\n", mo.path.c_str());
  std::shared_ptr<const Model> model = load_model(mo, "sam3 segment");

  ImageState state(model);
  const CommandImage ci = set_command_image(state, image_path, embedding_path, n_threads, "sam3 segment");
  const Image& image = ci.image;
  const double decode_ms = ci.decode_ms, encode_ms = ci.encode_ms;
  const int W = state.embedding().image_width(), H = state.embedding().image_height();

  const std::vector<Prompt> prompts = to_prompts(pending, W, H);

  std::fprintf(stderr, "sam3 segment: %zu prompt%s ...\n", prompts.size(), prompts.size() == 1 ? "" : "s");
  SegmentParams sp = segment_default_params();
  sp.n_threads = n_threads;
  sp.threshold = threshold;
  sp.semantic = !semantic_path.empty() || !out_path.empty();
  const SegmentResult result = segment(state, prompts, sp);

  if (!overlay_path.empty()) write_png_file(overlay_path, render_overlay(image, result));
  if (!semantic_path.empty()) {
    for (size_t i = 0; i < result.prompts.size(); ++i) {
      const Mask& m = result.prompts[i].semantic;
      std::vector<uint8_t> grey = m.to_bitmap();
      for (uint8_t& v : grey) v = v ? 255 : 0;
      write_png_file(indexed_path(semantic_path, i, result.prompts.size()), grey.data(), m.width, m.height, 1);
    }
  }
  const double total_ms = ms_since(t_all);
  if (!out_path.empty()) {
    ResultJsonParams jp = result_json_default_params();
    jp.indent = 1;
    jp.model_path = mo.path;
    jp.model_config = model->config_name();
    jp.image_path = image_path;
    jp.embedding_path = embedding_path;
    jp.threshold = true;
    jp.timings_ms = {{"load", model->load_seconds() * 1e3},
                     {"decode", decode_ms},
                     {embedding_path.empty() ? "encode" : "load_embedding", encode_ms},
                     {"segment", result.total_ms},
                     {"total", total_ms}};
    const std::string text = result_to_json(result, jp) + "\n";
    if (out_path == "-")
      std::fwrite(text.data(), 1, text.size(), stdout);
    else
      write_text_file(out_path, text);
  }
  if (out_path != "-") {
    for (size_t i = 0; i < result.prompts.size(); ++i) {
      const PromptResult& p = result.prompts[i];
      std::printf("prompt %zu: text \"%s\"", i, p.text_used.c_str());
      if (!p.prompt.boxes.empty()) {
        size_t neg = 0;
        for (const PromptBox& b : p.prompt.boxes) neg += !b.positive;
        std::printf(" + %zu positive / %zu negative box%s", p.prompt.boxes.size() - neg, neg,
                    p.prompt.boxes.size() == 1 ? "" : "es");
      }
      std::printf(": %zu instance%s with score > %g (%.0f ms)\n", p.instances.size(),
                  p.instances.size() == 1 ? "" : "s", static_cast<double>(p.threshold), p.timings.total_ms);
      for (const Instance& in : p.instances)
        std::printf("  score %.3f  box [%.1f, %.1f, %.1f, %.1f]  area %lld\n", static_cast<double>(in.score),
                    static_cast<double>(in.box[0]), static_cast<double>(in.box[1]), static_cast<double>(in.box[2]),
                    static_cast<double>(in.box[3]), static_cast<long long>(in.mask.area()));
    }
  }
  std::fprintf(stderr, "sam3 segment: load %.2f s, %s %.2f s, prompts %.2f s, total %.2f s (%d threads)%s%s%s%s\n",
               model->load_seconds(), embedding_path.empty() ? "decode+encode" : "embedding",
               (decode_ms + encode_ms) * 1e-3, result.total_ms * 1e-3, total_ms * 1e-3, n_threads,
               out_path.empty() || out_path == "-" ? "" : ("; wrote " + out_path).c_str(),
               overlay_path.empty() ? "" : ("; overlay " + overlay_path).c_str(),
               semantic_path.empty() ? "" : "; semantic ", semantic_path.c_str());
  return 0;
}

}  // namespace sam3::cli

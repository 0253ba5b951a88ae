// sam3.cpp — `sam3 compare -m A [-m B] [--dtype X] [--dtype Y] -i IMAGE... -t TEXT... [--box ...] [--neg-box ...]`: runs two models, or one model
// at two precisions, on the same images and prompts and reports how far apart they are: embedding cosine per FPN
// level, per-query probability deltas, kept-set agreement, mask IoU and box deltas of the queries both keep, times.
// A user with real weights judges a precision on their own images with it (docs/precision.md).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "core/parallel.h"
#include "model_options.h"
#include "prompt_options.h"
#include "sam3/sam3.h"

namespace sam3::cli {

int cmd_compare(int argc, char** argv) {
  CLI::App app{"Compare two models, or one model at two precisions, on the same images and prompts.", "sam3 compare"};
  app.footer(kPromptHelp);
  std::vector<std::string> models, dtypes, images;
  PromptOptions po;
  std::string config_path;
  float threshold = 0.5f;
  int n_threads = default_thread_count();
  bool json = false;
  app.add_option("-m,--model", models, "model A, and optionally model B (default: A again)")
      ->required()->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--config", config_path, "config document (JSON) for both; default: from the file, else 'sam3'");
  app.add_option("--dtype", dtypes, "precision of A, then of B (default: f32, then auto)")
      ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(CLI::IsMember({"auto", "f32", "bf16", "int8"}));
  app.add_option("-i,--image", images, "image (JPEG or PNG); repeatable")
      ->required()->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  po.add_to(app);
  app.add_option("--threshold", threshold, "keep instances with score > T")->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--threads", n_threads, "threads")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_flag("--json", json, "print the report as JSON on stdout");
  try {
    app.parse(argc, argv);
    if (models.size() > 2) throw CLI::ValidationError("-m", "at most two models");
    if (dtypes.size() > 2) throw CLI::ValidationError("--dtype", "at most two precisions");
    if (po.empty()) throw CLI::ValidationError("-t", "no prompt: give a text (-t) and/or exemplar boxes (--box, --neg-box)");
    if (const std::string bad = po.blank_text_error(); !bad.empty()) throw CLI::ValidationError("-t", bad);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  ModelOptions a{models[0], config_path, dtypes.empty() ? "f32" : dtypes[0]};
  ModelOptions b{models.size() > 1 ? models[1] : models[0], config_path, dtypes.size() > 1 ? dtypes[1] : "auto"};
  const std::vector<PixelPrompt> pending = po.prompts(app);  // bad boxes fail before the models load
  const auto ma = load_model(a, "sam3 compare (A)");
  const auto mb = load_model(b, "sam3 compare (B)");
  EncodeParams ep = encode_default_params();
  ep.n_threads = n_threads;
  SegmentParams sp = segment_default_params();
  sp.n_threads = n_threads;
  sp.threshold = threshold;
  sp.semantic = false;

  nlohmann::ordered_json report = {{"a", {{"model", a.path}, {"precision", ma->info().precision}}},
                                   {"b", {{"model", b.path}, {"precision", mb->info().precision}}},
                                   {"threshold", threshold},
                                   {"images", nlohmann::ordered_json::array()}};
  double worst_cos = 1, worst_prob = 0, worst_iou = 1, worst_box = 0;
  int differ = 0;
  for (const std::string& path : images) {
    ImageState sa(ma), sb(mb);
    sa.set_embedding(ma->encode_file(path, ep));
    sb.set_embedding(mb->encode_file(path, ep));
    const std::vector<Prompt> prompts = to_prompts(pending, sa.embedding().image_width(), sa.embedding().image_height());
    const std::vector<double> cos = embedding_cosines(sa.embedding(), sb.embedding());
    for (double c : cos) worst_cos = std::min(worst_cos, c);
    const SegmentResult ra = segment(sa, prompts, sp), rb = segment(sb, prompts, sp);
    nlohmann::ordered_json img = {{"path", path},
                                  {"cosines", cos},
                                  {"encode_ms", {sa.embedding().timings().total_ms, sb.embedding().timings().total_ms}},
                                  {"prompts", nlohmann::ordered_json::array()}};
    if (!json) {
      std::printf("%s: embedding cosine per level", path.c_str());
      for (double c : cos) std::printf(" %.6f", c);
      std::printf("; encode %.0f / %.0f ms\n", sa.embedding().timings().total_ms, sb.embedding().timings().total_ms);
    }
    for (size_t p = 0; p < prompts.size(); ++p) {
      const PromptComparison c = compare_prompt_results(ra.prompts[p], rb.prompts[p], ma->input_size());
      worst_prob = std::max(worst_prob, c.max_prob_delta);
      worst_iou = std::min(worst_iou, c.min_mask_iou);
      worst_box = std::max(worst_box, c.max_box_delta_px);
      differ += c.kept_differ;
      nlohmann::ordered_json boxes = nlohmann::ordered_json::array();
      for (const PixelBox& bx : pending[p].boxes)
        boxes.push_back({{"xyxy", {bx.xyxy[0], bx.xyxy[1], bx.xyxy[2], bx.xyxy[3]}}, {"positive", bx.positive}});
      img["prompts"].push_back({{"text", ra.prompts[p].text_used},
                                {"boxes", boxes},
                                {"max_prob_delta", c.max_prob_delta},
                                {"kept", {c.kept_a, c.kept_b}},
                                {"kept_both", c.kept_both},
                                {"kept_differ", c.kept_differ},
                                {"mask_iou", {{"min", c.min_mask_iou}, {"mean", c.mean_mask_iou}}},
                                {"max_box_delta_px", c.max_box_delta_px},
                                {"prompt_ms", {ra.prompts[p].timings.total_ms, rb.prompts[p].timings.total_ms}}});
      if (!json)
        std::printf("  \"%s\"%s: kept %d / %d (%d both, %d differ), max |Δprob| %.2e, mask IoU min %.4f mean %.4f, "
                    "max box Δ %.2f px, %.0f / %.0f ms\n",
                    ra.prompts[p].text_used.c_str(), pending[p].boxes.empty() ? "" : (" + " + std::to_string(pending[p].boxes.size()) + " box(es)").c_str(), c.kept_a, c.kept_b, c.kept_both, c.kept_differ, c.max_prob_delta,
                    c.min_mask_iou, c.mean_mask_iou, c.max_box_delta_px, ra.prompts[p].timings.total_ms,
                    rb.prompts[p].timings.total_ms);
    }
    report["images"].push_back(std::move(img));
  }
  report["summary"] = {{"min_cosine", worst_cos},
                       {"max_prob_delta", worst_prob},
                       {"kept_differ", differ},
                       {"min_mask_iou", worst_iou},
                       {"max_box_delta_px", worst_box}};
  if (json) {
    std::printf("%s\n", report.dump(1).c_str());
  } else {
    std::printf("summary: min cosine %.6f, max |Δprob| %.2e, %d kept queries differ, min mask IoU %.4f, max box Δ "
                "%.2f px\n",
                worst_cos, worst_prob, differ, worst_iou, worst_box);
  }
  return 0;
}

}  // namespace sam3::cli

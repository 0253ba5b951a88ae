// sam3.cpp — `sam3 pick`: interactive single-object segmentation from clicks, a box and / or a previous pick's
// low-res logits (the SAM 1 task): writes the result document (COCO RLE masks, predicted IoUs), optionally the
// low-res logits (to refine with --mask-logits) and an overlay PNG. docs/pick.md.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "commands.h"
#include "model_options.h"
#include "prompt_options.h"
#include "command_image.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/timer.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "io/image_encode.h"
#include "io/overlay.h"
#include "io/safetensors.h"
#include "sam3/sam3.h"

namespace sam3::cli {

namespace {

constexpr const char* kHelp = R"(
Prompts (pixels of the original image, x to the right, y down):
  --point X,Y       a positive click (repeatable, in order); --neg-point X,Y a negative click
  --box X0,Y0,X1,Y1 the object's box (partly outside the image is accepted; a point outside it is an error)
  --mask-logits F   refine: the low-res logits a previous run wrote with --logits-out (the mask with the highest
                    predicted IoU; F:k takes mask k)
A single click gives 3 candidate masks (--single for one), anything else one mask (--multimask for 3).
Output: a summary on stdout; -o writes the result document (schema sam3.segment/1, docs/pick.md), "-o -" prints it.)";

// "F" or "F:k": the logits of mask k (default: the highest "iou") of a --logits-out file.
std::vector<float> read_mask_logits(const std::string& arg) {
  std::string path = arg;
  int index = -1;
  const size_t colon = arg.rfind(':');
  if (colon != std::string::npos && colon + 1 < arg.size() &&
      arg.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    path = arg.substr(0, colon);
    index = std::atoi(arg.c_str() + colon + 1);
  }
  const TensorFile f = read_safetensors(path);
  auto it = f.tensors.find("low_res_logits");
  if (it == f.tensors.end())
    throw Error("--mask-logits '" + path + "': no tensor 'low_res_logits' (write it with --logits-out)");
  const Tensor& t = it->second;
  if (t.dtype() != DType::F32 || t.dim() != 3 || t.size(1) != t.size(2))
    throw Error("--mask-logits '" + path + "': 'low_res_logits' must be F32 [k, L, L], is " + shape_str(t.shape()));
  const int64_t k = t.size(0), plane = t.size(1) * t.size(2);
  if (index < 0) {
    index = 0;
    auto iou = f.tensors.find("iou");
    if (iou != f.tensors.end() && iou->second.dtype() == DType::F32 && iou->second.numel() == k)
      for (int64_t i = 1; i < k; ++i)
        if (iou->second.f32()[i] > iou->second.f32()[index]) index = static_cast<int>(i);
  }
  if (index >= k) throw Error("--mask-logits '" + arg + "': the file holds " + std::to_string(k) + " masks");
  return std::vector<float>(t.f32() + index * plane, t.f32() + (index + 1) * plane);
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open '" + path + "' for writing");
  f << text;
  if (!f.flush()) throw Error("error writing '" + path + "'");
}

}  // namespace

int cmd_pick(int argc, char** argv) {
  CLI::App app{"Segment ONE object from clicks, a box and / or a previous mask (interactive, SAM 1 task).",
               "sam3 pick"};
  app.footer(kHelp);
  ModelOptions mo;
  std::string image_path, embedding_path, out_path, logits_out, overlay_path, box_arg,
      mask_logits;
  std::vector<std::string> points, neg_points;
  bool multimask = false, single = false;
  int n_threads = default_thread_count();
  app.add_option("-m,--model", mo.path, "checkpoint with the interactive weights (sam3.pt)")->required();
  add_model_options(app, mo);
  app.add_option("-i,--image", image_path, "image (JPEG or PNG); may be left out with --embedding");
  app.add_option("--embedding", embedding_path,
                 "an embedding saved by 'sam3 encode' (--pick-features keeps the "
                 "interactive features in it)");
  auto* p_opt = app.add_option("--point", points, "positive click X,Y (pixels); repeatable")
                    ->expected(1)
                    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* n_opt = app.add_option("--neg-point", neg_points, "negative click X,Y (pixels); repeatable")
                    ->expected(1)
                    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--box", box_arg, "the object's box X0,Y0,X1,Y1 (pixels)");
  app.add_option("--mask-logits", mask_logits, "refine from a previous --logits-out file (F or F:k)");
  app.add_flag("--multimask", multimask, "3 candidate masks");
  app.add_flag("--single", single, "one mask");
  app.add_option("-o,--output", out_path, "write the JSON result here ('-': stdout)");
  app.add_option("--logits-out", logits_out, "write the low-res logits of every mask (safetensors)");
  app.add_option("--overlay", overlay_path, "write a PNG of the image with the masks");
  app.add_option("--threads", n_threads, "threads")->capture_default_str()->check(CLI::Range(1, 4096));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (image_path.empty() && embedding_path.empty())
    return usage_error("sam3 pick", "give an image (-i) or an embedding (--embedding)");
  if (points.empty() && neg_points.empty() && box_arg.empty() && mask_logits.empty())
    return usage_error("sam3 pick", "no prompt: give --point, --neg-point, --box and/or --mask-logits");
  if (multimask && single) return usage_error("sam3 pick", "--multimask and --single exclude each other");
  if (!overlay_path.empty() && image_path.empty()) return usage_error("sam3 pick", "--overlay needs the image (-i)");

  // The clicks in command-line order; the box; the previous logits. Checked before the model is loaded.
  PickPrompt prompt;
  {
    size_t pi = 0, ni = 0;
    for (const CLI::Option* o : app.parse_order()) {
      if (o != p_opt && o != n_opt) continue;
      const bool pos = o == p_opt;
      const std::string& s = pos ? points.at(pi++) : neg_points.at(ni++);
      const std::vector<float> xy = parse_numbers(pos ? "--point" : "--neg-point", s, 2, "2 numbers");
      prompt.points.push_back({xy[0], xy[1], pos});
    }
  }
  if (!box_arg.empty()) {
    const std::vector<float> b = parse_numbers("--box", box_arg, 4, "4 numbers");
    try {
      PromptBox::check_user_xyxy(b[0], b[1], b[2], b[3]);
    } catch (const Error& e) {
      throw Error("--box '" + box_arg + "': " + e.what());
    }
    prompt.has_box = true;
    for (int k = 0; k < 4; ++k) prompt.box[k] = b[static_cast<size_t>(k)];
  }
  if (!mask_logits.empty()) prompt.mask_logits = read_mask_logits(mask_logits);
  prompt.multimask = multimask ? 1 : single ? 0 : -1;

  const auto t_all = Clock::now();
  std::fprintf(stderr, "sam3 pick: loading %s ...\n", mo.path.c_str());
  std::shared_ptr<const Model> model = load_model(mo, "sam3 pick");
  if (!model->supports_pick())
    throw Error(mo.path + " has no interactive weights (tracker.sam_prompt_encoder.*, tracker.sam_mask_decoder.*)");

  ImageState state(model);
  const CommandImage ci = set_command_image(state, image_path, embedding_path, n_threads, "sam3 pick");
  const Image& image = ci.image;
  const double decode_ms = ci.decode_ms, encode_ms = ci.encode_ms;

  PickParams pp = pick_default_params();
  pp.n_threads = n_threads;
  const PickResult r = pick(state, prompt, pp);
  const double total_ms = ms_since(t_all);

  if (!logits_out.empty()) {
    const int64_t k = static_cast<int64_t>(r.masks.size()), L = r.low_res_size;
    Tensor logits = Tensor::empty({k, L, L}), iou = Tensor::empty({k});
    for (int64_t i = 0; i < k; ++i) {
      const PickMask& m = r.masks[static_cast<size_t>(i)];
      std::copy(m.low_res_logits.begin(), m.low_res_logits.end(), logits.f32() + i * L * L);
      iou.f32()[i] = m.iou;
    }
    write_safetensors(logits_out, {{"low_res_logits", logits}, {"iou", iou}}, {{"format", "sam3.pick_logits"}});
  }
  if (!overlay_path.empty()) {
    SegmentResult sr;
    sr.image_width = r.image_width;
    sr.image_height = r.image_height;
    PromptResult pr;
    pr.image_width = r.image_width;
    pr.image_height = r.image_height;
    pr.threshold = 0;
    const PickMask& best = r.masks[static_cast<size_t>(r.best())];  // the overlay shows the best candidate
    Instance in;
    in.score = best.iou;
    for (int k = 0; k < 4; ++k) in.box[k] = best.box[k];
    in.mask = best.mask;
    pr.instances.push_back(std::move(in));
    sr.prompts.push_back(std::move(pr));
    write_png_file(overlay_path, render_overlay(image, sr));
  }
  if (!out_path.empty()) {
    ResultJsonParams jp = result_json_default_params();
    jp.indent = 1;
    jp.model_path = mo.path;
    jp.model_config = model->config_name();
    jp.image_path = image_path;
    jp.embedding_path = embedding_path;
    jp.timings_ms = {{"load", model->load_seconds() * 1e3},
                     {"decode", decode_ms},
                     {embedding_path.empty() ? "encode" : "load_embedding", encode_ms},
                     {"pick", r.timings.total_ms},
                     {"total", total_ms}};
    const std::string text = pick_result_to_json(r, jp) + "\n";
    if (out_path == "-")
      std::fwrite(text.data(), 1, text.size(), stdout);
    else
      write_text_file(out_path, text);
  }
  if (out_path != "-") {
    std::printf("pick: %zu mask%s (object score logit %.3f, %.0f ms%s)\n", r.masks.size(),
                r.masks.size() == 1 ? "" : "s", static_cast<double>(r.object_score_logit), r.timings.total_ms,
                r.timings.neck_ms > 0
                    ? (", SAM2 neck " + std::to_string(static_cast<int>(r.timings.neck_ms)) + " ms").c_str()
                    : "");
    for (size_t i = 0; i < r.masks.size(); ++i) {
      const PickMask& m = r.masks[i];
      std::printf("  mask %zu: iou %.3f  box [%.0f, %.0f, %.0f, %.0f]  area %lld%s\n", i, static_cast<double>(m.iou),
                  static_cast<double>(m.box[0]), static_cast<double>(m.box[1]), static_cast<double>(m.box[2]),
                  static_cast<double>(m.box[3]), static_cast<long long>(m.area),
                  static_cast<int>(i) == r.best() ? "  (best)" : "");
    }
  }
  std::fprintf(stderr, "sam3 pick: total %.2f s (%d threads)%s\n", total_ms * 1e-3, n_threads,
               out_path.empty() || out_path == "-" ? "" : ("; wrote " + out_path).c_str());
  return 0;
}

}  // namespace sam3::cli

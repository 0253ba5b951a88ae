// sam3.cpp — `sam3 batch`: every image of a dataset x every prompt -> COCO results (docs/batch.md). Resumable: each
// image's outcome is appended to OUT/records.jsonl as it ends; a rerun skips the images done and tries the failed ones
// again; results.json, images.json and failed.json are merged from the records at the end (sam3.h: batch_*). A
// reading thread decodes the next images while the model runs.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "batch_journal.h"
#include "batch_prompts.h"
#include "batch_reader.h"
#include "commands.h"
#include "model_options.h"
#include "sam3/sam3.h"

namespace sam3::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kFooter = R"(
Inputs (-i, repeatable): a directory (its .jpg/.jpeg/.png files, recursively, sorted), an image file, or a list file
(one path a line, relative to the list's directory). Image ids are 1, 2, ... in that order.
Outputs in OUT: results.json (COCO results list), images.json (COCO "images" + "categories"; one category per -t),
failed.json (images that could not be read or segmented), records.jsonl (per-image progress), run.json.
Rerunning the same command resumes: finished images are skipped, failed ones tried again.
Exit code: 0 all images done, 3 some images failed (listed in failed.json), 1 error, 2 bad options.)";

// "photos/a.jpg" -> "a-1f2e3d4c": a name for per-image files (embeddings, overlays) that two images named alike in
// different directories do not share.
std::string artifact_stem(const std::string& file_name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : file_name) h = (h ^ c) * 1099511628211ull;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08" PRIx64, static_cast<uint64_t>(h & 0xffffffffu));
  return fs::path(file_name).stem().string() + "-" + hex;
}

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f.flush()) throw std::runtime_error("error writing '" + tmp + "'");
  }
  fs::rename(tmp, path);
}

std::string duration(double s) {
  char buf[32];
  const long long t = static_cast<long long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, t / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  return buf;
}

}  // namespace

int cmd_batch(int argc, char** argv) {
  CLI::App app{"Segment every image of a dataset with every prompt; write COCO results (resumable).", "sam3 batch"};
  app.footer(kFooter);
  ModelOptions mo;
  std::string box_file, out_dir, embeddings_dir, overlays_dir;
  std::vector<std::string> inputs, texts;
  float threshold = 0.5f;
  int n_threads = default_thread_count();
  app.add_option("-m,--model", mo.path, "checkpoint: the official sam3.pt or a .safetensors file")->required();
  add_model_options(app, mo);
  app.add_option("-i,--input", inputs, "image directory, image file or list file; repeatable")
      ->required()->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("-t,--text", texts, "text prompt (one COCO category each); repeatable")
      ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--box-file", box_file, "per-image exemplar boxes (JSON, docs/batch.md)");
  app.add_option("--threshold", threshold, "keep instances with score > T")->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--threads", n_threads, "threads for the model")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("-o,--output", out_dir, "output directory (created; a rerun resumes)")->required();
  app.add_option("--embeddings-dir", embeddings_dir,
                 "save each image's embedding here; one already there is used instead of encoding");
  app.add_option("--overlays", overlays_dir, "write an overlay PNG per image here");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (texts.empty() && box_file.empty()) return usage_error("sam3 batch", "no prompt: give a text (-t) and/or --box-file");
  for (const std::string& t : texts)
    if (t.find_first_not_of(" \t\r\n") == std::string::npos) return usage_error("sam3 batch", "empty text prompt (-t '" + t + "')");

  const std::vector<std::string> files = list_image_files(inputs);
  if (files.empty()) throw std::runtime_error("the inputs hold no images (.jpg, .jpeg, .png)");
  const BatchPrompts prompts(texts, box_file, files);

  std::fprintf(stderr, "sam3 batch: loading %s ...\n", mo.path.c_str());
  std::shared_ptr<const Model> model = load_model(mo, "sam3 batch");

  BatchRun run;
  run.config = model->config_name();
  run.precision = model->info().precision;
  run.threshold = threshold;
  run.categories = prompts.categories();
  run.box_file_digest = prompts.digest();
  batch_prepare_dir(out_dir, run);
  BatchJournal journal(out_dir);  // locked: one writer per directory
  const std::vector<uint8_t> finished = batch_finished(out_dir, files);
  std::vector<size_t> todo;
  for (size_t i = 0; i < files.size(); ++i)
    if (!finished[i]) todo.push_back(i);
  for (const std::string& d : {embeddings_dir, overlays_dir})
    if (!d.empty()) fs::create_directories(d);
  std::fprintf(stderr, "sam3 batch: %zu images, %zu done before, %zu to do; %zu categories; %d threads\n",
               files.size(), files.size() - todo.size(), todo.size(), run.categories.size(), n_threads);

  const auto t0 = Clock::now();  // the run proper: everything after loading the model
  double model_s = 0;            // inside the library's encode + prompts (what the run cannot avoid)
  auto embedding_path = [&](size_t i) { return embeddings_dir + "/" + artifact_stem(files[i]) + ".safetensors"; };
  BatchReader reader(
      todo,
      [&](size_t i) {
        BatchItem item;
        item.index = i;
        try {
          if (!embeddings_dir.empty() && fs::exists(embedding_path(i)))
            item.embedding = model->load_embedding(embedding_path(i));
          if (item.embedding.empty() || !overlays_dir.empty()) item.image = read_image_file(files[i]);
        } catch (const std::exception& e) {
          item.error = e.what();
        }
        return item;
      },
      2);

  EncodeParams ep = encode_default_params();
  ep.n_threads = n_threads;
  SegmentParams sp = segment_default_params();
  sp.n_threads = n_threads;
  sp.threshold = threshold;
  sp.semantic = false;
  ImageState state(model);
  auto last_report = t0;
  size_t n_done = 0, n_failed = 0;
  BatchItem item;
  while (reader.next(item)) {
    const int64_t id = static_cast<int64_t>(item.index + 1);
    const std::string& name = files[item.index];
    std::string record, error = item.error;
    SegmentResult result;
    if (error.empty()) {
      const auto t_model = Clock::now();
      try {
        if (!item.embedding.empty())
          state.set_embedding(item.embedding);
        else
          state.set_image(item.image.view(), ep);
        const int W = state.embedding().image_width(), H = state.embedding().image_height();
        std::vector<Prompt> image_prompts;
        std::vector<int64_t> category_ids;
        prompts.for_image(name, W, H, image_prompts, category_ids);
        if (!image_prompts.empty()) {
          result = segment(state, image_prompts, sp);
        } else {  // no -t and no boxes for this image: nothing to look for
          result.image_width = W;
          result.image_height = H;
        }
        record = batch_image_record(result, id, name, category_ids);
      } catch (const std::exception& e) {
        error = e.what();
      }
      model_s += std::chrono::duration<double>(Clock::now() - t_model).count();
    }
    if (!error.empty()) {
      ++n_failed;
      std::fprintf(stderr, "sam3 batch: FAILED %s: %s\n", name.c_str(), error.c_str());
      journal.append(batch_failure_record(id, name, error));
    } else {
      if (!embeddings_dir.empty() && item.embedding.empty()) {
        const std::string path = embedding_path(item.index);
        state.embedding().save(path + ".tmp");
        fs::rename(path + ".tmp", path);
      }
      if (!overlays_dir.empty())
        write_file_atomically(overlays_dir + "/" + artifact_stem(name) + ".png",
                              render_overlay_png(item.image.view(), result));
      journal.append(record);
    }
    ++n_done;
    const auto now = Clock::now();
    if (now - last_report >= std::chrono::seconds(1) || n_done == todo.size()) {
      last_report = now;
      const double s = std::chrono::duration<double>(now - t0).count();
      const double rate = s > 0 ? static_cast<double>(n_done) / s : 0;
      const size_t total_done = files.size() - todo.size() + n_done;
      std::fprintf(stderr, "sam3 batch: [%zu/%zu] %.1f%%, %.2f images/s, ETA %s%s\n", total_done, files.size(),
                   100.0 * static_cast<double>(total_done) / static_cast<double>(files.size()), rate,
                   rate > 0 ? duration(static_cast<double>(todo.size() - n_done) / rate).c_str() : "?",
                   n_failed ? (", " + std::to_string(n_failed) + " failed").c_str() : "");
    }
  }

  const BatchSummary sum = batch_merge(out_dir, run, files);
  const double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr,
               "sam3 batch: this run: %zu images in %.2f s; encode + prompts %.2f s; everything else (reading not "
               "hidden, records, merge) %.2f s = %.1f%% on top\n",
               n_done, wall_s, model_s, wall_s - model_s, model_s > 0 ? 100.0 * (wall_s - model_s) / model_s : 0.0);
  std::printf("%" PRId64 " images: %" PRId64 " done (%zu this run), %" PRId64 " failed; %" PRId64
              " instances -> %s/results.json, %s/images.json%s\n",
              sum.images, sum.done, n_done - n_failed, sum.failed, sum.annotations, out_dir.c_str(), out_dir.c_str(),
              sum.failed ? (", failures in " + out_dir + "/failed.json").c_str() : "");
  if (sum.failed) {
    std::fprintf(stderr, "sam3 batch: %" PRId64 " of %" PRId64 " images failed (listed in %s/failed.json)\n",
                 sum.failed, sum.images, out_dir.c_str());
    return 3;
  }
  return 0;
}

}  // namespace sam3::cli

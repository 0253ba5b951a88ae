// sam3.cpp — `sam3 encode -m MODEL [--config C] -i IMAGE -o EMB.safetensors [--threads N]`: runs the image encoder
// once and saves the embedding (FPN levels + position encodings + image size + config name) for later prompts.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "model_options.h"
#include "core/parallel.h"
#include "io/atomic_file.h"
#include "sam3/sam3.h"

namespace sam3::cli {

int cmd_encode(int argc, char** argv) {
  CLI::App app{"Encode an image once and save its embedding (reused by every prompt on that image).", "sam3 encode"};
  ModelOptions mo;
  std::string image_path, out_path;
  int n_threads = default_thread_count();
  app.add_option("-m,--model", mo.path, "checkpoint (.pt or .safetensors)")->required();
  add_model_options(app, mo);
  app.add_option("-i,--image", image_path, "image (JPEG or PNG)")->required();
  app.add_option("-o,--output", out_path, "embedding file to write (.safetensors)")->required();
  app.add_option("--threads", n_threads, "threads")->capture_default_str()->check(CLI::Range(1, 4096));
  bool pick_features = false;
  app.add_flag("--pick-features", pick_features,
               "also compute and save the interactive head's features (the SAM2 neck), so that 'sam3 pick "
               "--embedding' works; needs a checkpoint with the interactive weights");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  check_not_an_input(out_path, {mo.path, mo.config_path, image_path}, "output -o");
  std::shared_ptr<const Model> model = load_model(mo, "sam3 encode");
  EncodeParams ep = encode_default_params();
  ep.n_threads = n_threads;
  if (pick_features && !model->supports_pick())
    throw Error(mo.path + " has no interactive weights: --pick-features needs them");
  ep.pick_features = pick_features;
  const ImageEmbedding emb = model->encode_file(image_path, ep);
  emb.save(out_path);
  const EncodeTimings& t = emb.timings();
  std::fprintf(stderr,
               "sam3 encode: %s (%dx%d) -> %s: %d levels, config '%s'; load %.2f s, preprocess %.2f s, encode %.2f s "
               "(patch embed %.2f, windowed blocks %.2f, global blocks %.2f, neck %.2f), %d threads\n",
               image_path.c_str(), emb.image_width(), emb.image_height(), out_path.c_str(), emb.num_levels(),
               emb.config_name().c_str(), model->load_seconds(), t.preprocess_ms * 1e-3,
               (t.total_ms - t.preprocess_ms) * 1e-3, t.patch_embed_ms * 1e-3, t.window_blocks_ms * 1e-3,
               t.global_blocks_ms * 1e-3, t.neck_ms * 1e-3, n_threads);
  if (pick_features)
    std::fprintf(stderr, "sam3 encode: SAM2 neck (interactive features) %.2f s\n", t.pick_neck_ms * 1e-3);
  return 0;
}

}  // namespace sam3::cli

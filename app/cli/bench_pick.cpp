// sam3.cpp — `sam3 bench`'s interactive part: the SAM2 neck's extra cost per image (run on the first pick) and one
// pick on an encoded image (synthetic ViT output of the model's size: content does not change the work), for a
// single click (3 masks) and a refinement (2 clicks + the previous mask, 1 mask), on a 1280x720 image. Each run
// starts from a fresh image state (so it runs the neck once) and then times kPicksPerRun clicks and refinements.
#include <time.h>

#include <cmath>
#include <cstdio>

#include "api/internal.h"
#include "commands.h"

namespace sam3::cli {

namespace {
double cpu_ms() {  // process CPU time, all threads: on a busy machine it shows the work, the wall time the wait too
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}
}  // namespace

constexpr int kPicksPerRun = 5;

void bench_pick_stages(std::shared_ptr<const Model> model, int n_threads, int runs) {
  if (!model->supports_pick()) {
    std::printf("pick: the checkpoint has no interactive weights (skipped)\n");
    return;
  }
  const int W = 1280, H = 720;
  const Config& cfg = model->impl().config;
  auto impl = std::make_shared<ImageEmbedding::Impl>();
  impl->features.config_name = cfg.name;
  impl->features.image_width = W;
  impl->features.image_height = H;
  auto fill = [](const Shape& s, float phase) {
    Tensor t = Tensor::empty(s);
    for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = std::sin(0.37f * static_cast<float>(i % 9973) + phase);
    return t;
  };
  for (const Shape& s : image_feature_shapes(cfg)) impl->features.fpn.push_back(fill(s, 0.1f));
  for (const Shape& s : image_pos_shapes(cfg)) impl->features.pos.push_back(fill(s, 1.3f));
  impl->features.trunk = fill({1, cfg.vit.embed_dim, cfg.vit_grid(), cfg.vit_grid()}, 0.7f);
  const ImageEmbedding emb(std::move(impl));

  PickParams pp = pick_default_params();
  pp.n_threads = n_threads;
  PickPrompt click;
  click.points.push_back({640, 360, true});
  double neck_ms = 1e30;
  PickTimings best_click, best_refine;
  best_click.total_ms = best_refine.total_ms = 1e30;
  double click_cpu = 1e30, neck_cpu = 1e30;
  for (int r = 0; r < std::max(1, runs); ++r) {
    ImageState state(model);  // a fresh image state: the first pick runs the SAM2 neck
    state.set_embedding(emb);
    double c0 = cpu_ms();
    const PickResult first = pick(state, click, pp);
    neck_cpu = std::min(neck_cpu, cpu_ms() - c0);
    neck_ms = std::min(neck_ms, first.timings.neck_ms);
    std::fprintf(stderr, "pick run %d: neck %.1f ms; click, refine:", r + 1, first.timings.neck_ms);
    for (int i = 0; i < kPicksPerRun; ++i) {
      c0 = cpu_ms();
      const PickResult again = pick(state, click, pp);
      click_cpu = std::min(click_cpu, cpu_ms() - c0);
      if (again.timings.total_ms < best_click.total_ms) best_click = again.timings;
      PickPrompt refine = click;
      refine.points.push_back({700, 420, false});
      refine.mask_logits = again.masks[static_cast<size_t>(again.best())].low_res_logits;
      const PickResult ref = pick(state, refine, pp);
      if (ref.timings.total_ms < best_refine.total_ms) best_refine = ref.timings;
      std::fprintf(stderr, " %.1f, %.1f ms;", again.timings.total_ms, ref.timings.total_ms);
    }
    std::fprintf(stderr, "\n");
  }
  const int n_runs = std::max(1, runs);
  std::printf("pick (interactive) on a %dx%d image, %d thread%s: the neck best of %d run%s, picks best of %d:\n", W,
              H, n_threads, n_threads == 1 ? "" : "s", n_runs, n_runs == 1 ? "" : "s", n_runs * kPicksPerRun);
  std::printf(
      "  SAM2 neck (once per picked image, extra to the encode): %8.1f ms (first pick: %.1f ms CPU, all threads)\n",
      neck_ms, neck_cpu);
  std::printf("  one click, 3 masks:   total %7.1f ms (decoder %.1f, post-processing %.1f); %.1f ms CPU, all threads\n",
              best_click.total_ms, best_click.decoder_ms, best_click.postprocess_ms, click_cpu);
  std::printf("  refine, 1 mask:       total %7.1f ms (decoder %.1f, post-processing %.1f)\n", best_refine.total_ms,
              best_refine.decoder_ms, best_refine.postprocess_ms);
}

}  // namespace sam3::cli

// sam3.cpp — `sam3 make-random-checkpoint -o OUT.pt [--config C] [--seed N] [--threads N] [--no-extra-keys]
// [--no-interactive]`:
// a random checkpoint in the official sam3.pt layout (full size by default), for benchmarks and loader tests.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/timer.h"
#include "model/config.h"
#include "model/random_checkpoint.h"

namespace sam3::cli {

int cmd_make_random_checkpoint(int argc, char** argv) {
  CLI::App app{"Write a random checkpoint in the official sam3.pt layout ({\"model\": state_dict}, keys "
               "\"detector.*\", RoPE tables as complex64, plus sam2_convs.* and tracker.* keys a loader skips).",
               "sam3 make-random-checkpoint"};
  std::string out_path, config_path;
  RandomCheckpointOptions opt;
  opt.n_threads = default_thread_count();
  bool no_extra = false, no_interactive = false, interactive = false;
  app.add_option("-o,--output", out_path, "output file (.pt)")->required();
  app.add_option("--config", config_path, "config document (JSON); default: the preset 'sam3' (840M parameters)");
  app.add_option("--seed", opt.seed, "random seed (same seed, same file, for any thread count)")->capture_default_str();
  app.add_option("--threads", opt.n_threads, "threads generating the values")->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_flag("--no-extra-keys", no_extra, "write only the image model's keys (no sam2_convs.*, tracker.*)");
  app.add_flag("--no-interactive", no_interactive,
               "leave out the interactive head (tracker.sam_prompt_encoder.*, tracker.sam_mask_decoder.*): "
               "the checkpoint then cannot `sam3 pick`. Default: written for the preset 'sam3' (the official "
               "model has it) and for a config document with a 'pvs' section");
  app.add_flag("--interactive", interactive, "write the interactive head for any config");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  opt.extra_keys = !no_extra;
  const Config config = config_path.empty() ? config_preset("sam3") : load_config_file(config_path);
  if (interactive && (no_interactive || no_extra))
    throw Error("--interactive excludes --no-interactive and --no-extra-keys");
  opt.interactive = interactive || (!no_extra && !no_interactive && (config_path.empty() || config.pvs_section));
  const auto t0 = Clock::now();
  const RandomCheckpointStats stats = write_random_checkpoint(out_path, config, opt);
  const double secs = seconds_since(t0);
  std::printf("wrote %s: config '%s', %lld tensors, %lld image-model parameters, %.1f MiB of tensor data, seed %llu, "
              "%.2f s (%d threads)\n",
              out_path.c_str(), config.name.c_str(), static_cast<long long>(stats.tensors),
              static_cast<long long>(stats.parameters), static_cast<double>(stats.bytes) / (1 << 20),
              static_cast<unsigned long long>(opt.seed), secs, opt.n_threads);
  return 0;
}

}  // namespace sam3::cli

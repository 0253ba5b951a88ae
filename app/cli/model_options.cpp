// sam3.cpp — shared model options of the subcommands (see model_options.h).
#include "model_options.h"

#include <cstdio>

namespace sam3::cli {

void add_model_options(CLI::App& app, ModelOptions& o) {
  app.add_option("--config", o.config_path, "config document (JSON); default: from the file, else preset 'sam3'");
  app.add_option("--dtype", o.dtype,
                 "compute precision: f32 (exact), bf16, int8, or auto (bf16 where the CPU has bf16 units, else f32; a "
                 "file from 'sam3 convert': its own precision)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "f32", "bf16", "int8"}));
}

std::shared_ptr<const Model> load_model(const ModelOptions& o, const char* command) {
  ModelParams mp = model_default_params();
  mp.config_path = o.config_path;
  mp.dtype = o.dtype;
  std::shared_ptr<const Model> model = Model::load(o.path, mp);
  const Model::Info info = model->info();
  std::fprintf(stderr, "%s: %s precision (%s), weights: %s\n", command, info.precision.c_str(), info.isa.c_str(),
               info.weight_format.c_str());
  if (!info.precision_note.empty()) std::fprintf(stderr, "%s: note: %s\n", command, info.precision_note.c_str());
  return model;
}

}  // namespace sam3::cli

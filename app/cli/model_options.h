// sam3.cpp — the options every model-running subcommand shares (--config, --dtype) and loading the model with them.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "sam3/sam3.h"

namespace sam3::cli {

struct ModelOptions {
  std::string path, config_path;
  std::string dtype = "auto";
};

// Adds --config and --dtype to `app` (the model path option is the subcommand's own: -m or a positional).
void add_model_options(CLI::App& app, ModelOptions& o);
// Model::load with the options; says on stderr which precision and ISA run, and why they are slow if they are.
std::shared_ptr<const Model> load_model(const ModelOptions& o, const char* command);

}  // namespace sam3::cli

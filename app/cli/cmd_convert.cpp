// sam3.cpp — `sam3 convert -m sam3.pt [--config C] --dtype bf16|int8|f16 -o model.safetensors`: stores the image
// model's weights (and the interactive head's) in a reduced precision, with the precision, the int8 scales and the
// config in the file (docs/weights.md, "Converted files"). Such a file loads zero-copy, and gives the same results as
// loading the original with the same --dtype. Exit codes: 0 written; 1 the input is bad (nothing written); 2 bad
// command line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "api/convert.h"
#include "commands.h"
#include "io/atomic_file.h"

namespace sam3::cli {

int cmd_convert(int argc, char** argv) {
  CLI::App app{"Store a checkpoint's weights in bf16, int8 or f16 (safetensors; loads zero-copy, same results as "
               "converting at load with the same --dtype).",
               "sam3 convert"};
  std::string in, out;
  ConvertOptions o;
  app.add_option("-m,--model", in, "checkpoint to convert: the official sam3.pt or an f32 .safetensors")->required();
  app.add_option("--config", o.config_path,
                 "config document (JSON); default: the file's metadata config, else the preset 'sam3'. Stored in "
                 "the output");
  app.add_option("--dtype", o.dtype,
                 "bf16: the layers --dtype bf16 runs in bf16 as bf16; int8: the image encoder as s8 + per-channel "
                 "scales (the rest f32); f16: every float tensor as f16 (storage only, computes as f32)")
      ->required()
      ->check(CLI::IsMember({"bf16", "int8", "f16"}));
  app.add_option("-o,--output", out, "converted file to write (.safetensors)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  check_not_an_input(out, {in, o.config_path}, "output -o");
  const ConvertSummary s = convert_weights(in, out, o);
  std::printf("sam3 convert: %s -> %s (%s, config '%s'): %zu tensors, %zu in %s; %.1f MiB read, %.1f MiB written, "
              "%.2f s\n",
              in.c_str(), out.c_str(), o.dtype.c_str(), s.config.name.c_str(), s.tensors, s.reduced, o.dtype.c_str(),
              static_cast<double>(s.bytes_in) / (1 << 20), static_cast<double>(s.bytes_out) / (1 << 20), s.seconds);
  return 0;
}

}  // namespace sam3::cli

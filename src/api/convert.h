// sam3.cpp — converted weights (`sam3 convert`, docs/weights.md "Converted files"): the image model's tensors (and
// the interactive head's) stored in a reduced precision in a safetensors file, which Model::load maps and borrows
// zero-copy. Library internal: the CLI and Model::load use it.
//
// What is stored: every tensor the image model reads (expected_tensors; the RoPE tables are left out: they are
// computed from the config at load), and the interactive tensors the source file has, keys as WeightFile keeps them.
//   --dtype bf16: the matmul weights that `--dtype bf16` runs in bf16 as BF16 bits; everything else F32.
//   --dtype int8: the image encoder's matmul weights as I8 + "<key>.scale" F32 [out]; everything else F32, the
//                 per-prompt modules included (they run bf16 or f32 by the loading CPU: docs/precision.md).
//   --dtype f16:  every floating-point tensor F16 (a storage format: computed exactly as the f32 values it holds).
// The matmul weights "run in" a precision are those the model's constructors pack under that precision's plan
// (nn::TensorSpec::packed, collected over the same constructors that load).
#pragma once
#include <string>
#include <vector>

#include "io/converted_format.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/sam3_image.h"
#include "nn/params.h"

namespace sam3 {

// The plan whose reduced weights a file of storage dtype `dtype` holds: bf16 {BF16, BF16}; int8 {Int8, F32}; f16
// {F32, F32}. Throws for anything else.
PrecisionPlan storage_plan(const std::string& dtype);

// The image model's tensors (expected_tensors order) with `packed` set to what `plan` packs each matmul weight to.
std::vector<nn::TensorSpec> planned_tensors(const Config& config, const PrecisionPlan& plan);

struct ConvertOptions {
  std::string dtype;        // "bf16", "int8" or "f16"
  std::string config_path;  // empty: the source's metadata config, else the preset "sam3"
};
struct ConvertSummary {
  Config config;
  size_t tensors = 0;           // tensors written (scales included)
  size_t reduced = 0;           // matmul weights stored in BF16 / I8 (F16 files: every floating-point tensor)
  uint64_t bytes_in = 0;        // of the source's tensors that were read (image model + interactive)
  uint64_t bytes_out = 0;       // of the tensors written
  double seconds = 0;
};
// Reads `in` (sam3.pt or an f32 safetensors file), checks it strictly against the config, and writes the converted
// file `out` atomically (never over `in`). Memory: one tensor at a time (the source's pages are given back as it
// goes). Throws sam3::Error naming the file and the problem.
ConvertSummary convert_weights(const std::string& in, const std::string& out, const ConvertOptions& options);

// Every problem of a converted file against `config`: missing tensors, wrong shapes, tensors not in the form the
// file's dtype stores them in, a missing or misshapen scale, unexpected tensors (stray scales included); the
// interactive head's likewise when the file has it. Empty when the file fits. (Scale values are checked when the
// weight is packed.)
std::vector<std::string> converted_weight_problems(const Config& config, const ConvertedFormat& format,
                                                   const WeightFile& file);

// The compute precision a converted file loads with: `dtype` "auto" (or empty) gives the file's own (bf16 -> bf16,
// int8 -> int8, f16 -> f32); an explicit one must be what the file can give exactly (bf16 and int8 files: their own
// only; f16 files: any) or sam3::Error says what to do instead.
Precision converted_precision(const ConvertedFormat& format, const std::string& dtype, const std::string& path);

// Makes a converted file's tensors loadable with `plan` (checked by converted_weight_problems first): inserts the
// RoPE tables computed from the config, and expands the F16 tensors that `plan` does not pack to owned F32 (giving
// their pages back). BF16 / I8 tensors stay borrowed from the mapping.
void prepare_converted(const Config& config, const PrecisionPlan& plan, WeightFile& file);

}  // namespace sam3

// sam3.cpp — what the public API's handles hold (library internal; include/sam3/sam3.h only forward-declares).
#pragma once
#include <memory>
#include <string>

#include "api/detector.h"  // segmentation (owner: pipeline)
#include "core/arena.h"
#include "core/tensor.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/image_embedding.h"
#include "model/image_encoder.h"
#include "sam3/sam3.h"

namespace sam3 {

struct Model::Impl {
  std::string path;
  Config config;
  WeightFile weights;  // mmapped; every module borrows its tensors from here
  std::unique_ptr<ImageEncoder> image_encoder;
  std::unique_ptr<const Detector> detector;  // per-prompt modules (api/detector.h, owner: pipeline)
  double load_seconds = 0;
};

struct ImageEmbedding::Impl {
  ImageFeatures features;
  EncodeTimings timings;
};

struct ImageState::Impl {
  std::shared_ptr<const Model> model;
  ImageEmbedding embedding;
  Arena scratch;  // grown to the encoder's need on first use, then reused
  ImagePromptCache prompt_cache;  // per-image work shared by prompts (api/detector.h, owner: pipeline)
};

// n_threads <= 0 -> one per online CPU.
int resolve_threads(int n_threads);

// Runs the image encoder on an already pre-processed input [1,3,R,R] (R = model.input_size()). `scratch` is used
// if it is large enough, otherwise replaced by one that is. The original image size goes into the embedding.
ImageEmbedding encode_preprocessed(const Model& model, const Tensor& input, int image_height, int image_width,
                                   Arena& scratch, const EncodeParams& params, double preprocess_ms = 0);

}  // namespace sam3

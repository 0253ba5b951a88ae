// sam3.cpp — what the public API's handles hold (library internal; include/sam3/sam3.h only forward-declares).
#pragma once
#include <memory>
#include <string>

#include "core/arena.h"
#include "core/precision.h"
#include "core/tensor.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/image_embedding.h"
#include "model/postprocess.h"
#include "model/prompt.h"
#include "model/sam1_task_predictor.h"
#include "model/sam3_image.h"
#include "tokenizer/tokenizer.h"
#include "sam3/sam3.h"

namespace sam3 {

struct Model::Impl {
  std::string path;
  Config config;
  WeightFile weights;  // mmapped; every module borrows its tensors from here
  std::unique_ptr<const Sam3Image> sam3;  // the model (model/sam3_image.h)
  Tokenizer tokenizer = Tokenizer::create();  // texts -> the ids Sam3Image::encode_prompt takes
  std::unique_ptr<const Sam1TaskPredictor> pick;  // the interactive head; null without its weights (pick.cpp)
  double load_seconds = 0;
  Precision precision = Precision::F32;  // of the matrix products (ModelParams::dtype resolved)
  std::string isa, precision_note;       // Model::Info's, found once at load
};

// ModelParams::dtype -> the precision to load with ("auto": bf16 where it has a fast kernel here, else f32).
Precision resolve_dtype(const std::string& dtype);

struct ImageEmbedding::Impl {
  ImageFeatures features;
  EncodeTimings timings;
};

struct ImageState::Impl {
  std::shared_ptr<const Model> model;
  ImageEmbedding embedding;
  Arena scratch{0, Arena::Growth::Grow};  // the encoder's and the prompts' scratch: sized on first use, then reused
  // The prompts' large outputs (mask logits, kept in each PromptResult for re-thresholding): the memory of results
  // already dropped is used again. Two free blocks: one prompt's at a time, plus one.
  BufferRecycler outputs{2};
  ImagePromptCache prompt_cache;  // per-image work shared by prompts (model/prompt.h)
  std::shared_ptr<const PvsFeatures> pvs;  // the interactive features of this image, once a pick computed them
  // With pvs: the image side of the picks without a mask input (Sam1TaskPredictor::click_tokens), once one ran.
  std::shared_ptr<const SamImageTokens> pick_click;
};

// The raw outputs of one prompt (forward_grounding), what re-thresholding needs.
struct PromptOutputs {
  DetectorOutputs raw;  // pred_logits [Q], presence, pred_boxes [Q,4], pred_masks [Q,h,w], semantic_seg [1,h,w]
  int64_t image_height = 0, image_width = 0;
  std::string precision, isa;  // how they were computed (Model::Info's): the result document's "compute"
};

// Loads the interactive head from m.weights.interactive when the file has it and the config enables it (strictly:
// every expected tensor, no unexpected one); leaves m.pick null otherwise (pick.cpp).
void load_pick_head(Model::Impl& m);

// n_threads <= 0 -> one per online CPU.
int resolve_threads(int n_threads);

// Runs the image encoder on an already pre-processed input [1,3,R,R] (R = model.input_size()). `scratch` is used
// if it is large enough, otherwise replaced by one that is. The original image size goes into the embedding.
ImageEmbedding encode_preprocessed(const Model& model, const Tensor& input, int image_height, int image_width,
                                   Arena& scratch, const EncodeParams& params, double preprocess_ms = 0);

}  // namespace sam3

// sam3.cpp — public API: Meta's SAM 3 image model (Promptable Concept Segmentation) in C++.
//
//   auto model = sam3::Model::load("sam3.pt");                        // weights mmapped once, config + checks
//   sam3::ImageEmbedding emb = model->encode(image);                  // the expensive part, once per image
//   emb.save("photo.emb.safetensors");                                // ... or cache it on disk
//   sam3::ImageEmbedding again = model->load_embedding("photo.emb.safetensors");
//
// Thread-safety contract:
//   * Model is immutable once load() returns. Every const member function of Model (encode, load_embedding, ...)
//     may be called from any number of threads at the same time; each call uses its own scratch memory.
//   * ImageEmbedding is an immutable value: copies share storage, and copies may be read from any number of threads.
//     It keeps the data it points into alive (model memory or a mapped file), so it may outlive the Model.
//   * ImageState is mutable per-image state (its embedding plus reusable scratch memory): use one ImageState per
//     thread, or serialise access to it. Several ImageStates may share one Model.
//   * Nothing in the library keeps global mutable state; the thread count is a parameter of every call.
// Errors are reported by throwing a std::runtime_error (the library's sam3::Error) whose message names the file,
// key or option at fault.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>  // EncodeParams::progress
#include <memory>
#include <string>
#include <utility>  // ResultJsonParams::timings_ms
#include <vector>

namespace sam3 {

// ---- parameters (whisper.cpp style: take the defaults, change what you need) --------------------------------------

struct ModelParams {
  // Config document (JSON, as ../shared/golden/tiny/config.json). Empty: the config stored in the weights file's
  // metadata if there is one, else the built-in preset "sam3" (the official model).
  std::string config_path;
  // Check every tensor of the image model against the config when loading (names, shapes, dtypes), all at once.
  bool validate_weights = true;
  // Compute precision of the matrix products (docs/precision.md): "f32" (exact parity with the official model),
  // "bf16" (bf16 weights and products, f32 sums), "int8" (s8 weights per output channel, u8 activations per token)
  // or "auto": bf16 where the CPU has bf16 matrix units or instructions (AMX, AVX512-BF16), f32 elsewhere. The
  // weights are converted once, here. Anything else throws sam3::Error.
  // A file from `sam3 convert` (docs/weights.md) runs the precision it was converted to ("auto": that one; f16
  // files: f32, or any precision asked for); asking a bf16 or int8 file for another precision throws.
  std::string dtype = "auto";
};
ModelParams model_default_params();

// What this CPU offers the compute precisions of ModelParams::dtype (for front ends that report it, `sam3 info`).
struct PrecisionSupport {
  std::string isa;             // the instruction set the reduced-precision kernels use, e.g. "avx2", "avx512_core_amx"
  std::string auto_precision;  // what "auto" resolves to here
  bool bf16_fast = false;      // bf16 has matrix-unit / native kernels here (else it is emulated: slower than f32)
  bool int8_fast = false;      // int8 has oneDNN kernels here
};
PrecisionSupport precision_support();

struct EncodeParams {
  int n_threads = 0;     // 0: one per online CPU
  // Record every intermediate (fixture names: vit.*, neck.*, ...) into <dir>/image.safetensors. Empty: the
  // directory named by the environment variable SAM3_DUMP, if set; otherwise nothing is recorded.
  std::string dump_dir;
  // Called on the encoding thread as the encoder advances, with the fraction done in [0, 1] (after pre-processing,
  // after each ViT block, 1 when the neck is done). Empty: not called. Must be cheap and must not throw.
  std::function<void(float)> progress;
  // Also compute the interactive head's features (the SAM2 neck) now, for a model that has them, instead of on the
  // first pick(); they are then saved with the embedding. False: the ViT output is kept so pick() can.
  bool pick_features = false;
};
EncodeParams encode_default_params();

// An RGB image, 8 bits per channel, interleaved (HWC), rows top to bottom, no padding between rows. Borrowed: the
// pixels must stay valid during the call that receives it.
struct ImageView {
  const uint8_t* rgb = nullptr;
  int width = 0, height = 0;
};

// Threads a call with n_threads = 0 uses: one per online CPU.
int default_thread_count();

// ---- image files ---------------------------------------------------------------------------------------------------
// JPEG and PNG decoding to 8-bit RGB exactly as the official pipeline's PIL Image.open(...).convert("RGB") (EXIF
// orientation not applied, alpha dropped; docs in src/io/image_decode.h).

// An RGB image that owns its pixels (interleaved HWC, as ImageView).
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // rgb[(y·width + x)·3 + c], c = R, G, B
  ImageView view() const { return ImageView{rgb.data(), width, height}; }
};

// What an image's header says, read without decoding the pixels.
struct ImageHeader {
  bool supported = false;  // the bytes start like a JPEG or a PNG (false: sizes 0)
  int64_t width = 0, height = 0;
};

// The header of a JPEG or PNG held in memory. Throws sam3::Error naming `name` when the bytes look like a JPEG or PNG
// but the header is corrupt or truncated.
ImageHeader read_image_header(const uint8_t* data, size_t size, const std::string& name = "<memory>");
// Decodes a JPEG or PNG held in memory (an HTTP upload, ...). Throws sam3::Error naming `name` for anything else,
// corrupt data, or more than `max_pixels` pixels (checked from the header, before any pixel memory is allocated).
RgbImage decode_image_bytes(const uint8_t* data, size_t size, int64_t max_pixels = 100'000'000,
                            const std::string& name = "<memory>");

// Wall time of one encode, milliseconds.
struct EncodeTimings {
  double preprocess_ms = 0;     // resize to the model's square input + normalisation
  double patch_embed_ms = 0;    // patch projection, absolute positions, ln_pre
  double window_blocks_ms = 0;  // ViT blocks with windowed attention
  double global_blocks_ms = 0;  // ViT blocks with global attention
  double neck_ms = 0;           // FPN levels (+ layout change of the trunk output)
  double total_ms = 0;          // everything, preprocess included
  double pick_neck_ms = 0;      // the SAM2 neck (EncodeParams::pick_features), included in total_ms
};

// One feature map, batch 1, NCHW row-major: data[(c·height + y)·width + x].
struct FeatureMap {
  const float* data = nullptr;
  int channels = 0, height = 0, width = 0;
};

// ---- image embedding ----------------------------------------------------------------------------------------------

// The cached encoding of one image that every prompt on it reuses: the FPN levels (finest first; the last is the
// 'vision_features' the detector attends to) and their sine position encodings, plus the original image size.
class ImageEmbedding {
 public:
  ImageEmbedding();  // empty
  bool empty() const;
  int image_width() const;   // the original image, before the square resize
  int image_height() const;
  const std::string& config_name() const;  // config of the model that made it
  int num_levels() const;
  FeatureMap level(int i) const;         // backbone_fpn[i]
  FeatureMap pos_encoding(int i) const;  // vision_pos_enc[i]
  const EncodeTimings& timings() const;  // zero for an embedding loaded from disk
  // Bytes held for the interactive head (pick): the kept ViT output and / or the interactive features; 0 without.
  int64_t pick_bytes() const;
  // Writes a safetensors file (levels, position encodings, image size and config name in the metadata).
  void save(const std::string& path) const;

  struct Impl;  // library internal
  const Impl& impl() const;
  explicit ImageEmbedding(std::shared_ptr<const Impl> impl);

 private:
  std::shared_ptr<const Impl> impl_;
};

// ---- model --------------------------------------------------------------------------------------------------------

class Model {
 public:
  // Loads the official checkpoint (sam3.pt: zip + pickle, read with a restricted unpickler) or our safetensors
  // file. Weights are memory-mapped and used in place (never copied when they are f32).
  static std::shared_ptr<const Model> load(const std::string& weights_path,
                                           const ModelParams& params = model_default_params());
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& config_name() const;
  int input_size() const;       // side of the square model input (1008 for SAM 3)
  bool supports_pick() const;   // the weights hold the interactive head (pick())
  double load_seconds() const;  // wall time load() took

  // A summary of the loaded model, for front ends that report it (`sam3 serve`'s /health).
  struct Info {
    std::string path;                        // the weights file given to load()
    std::string config_name;                 // as config_name()
    int input_size = 0;                      // as input_size()
    std::vector<std::string> weight_dtypes;  // distinct dtypes of the weights, lower case, sorted: {"bf16", "f32"}
    // How the file stores them: "torch checkpoint", "safetensors", or "converted bf16 (sam3 convert)" (int8, f16).
    std::string weight_format;
    int64_t embedding_bytes = 0;             // one image's embedding (the FPN levels used, f32), any image size
    std::string precision;                   // the compute precision in use: "f32", "bf16" or "int8"
    std::string isa;                         // the instruction set its kernels use here, e.g. "avx2", "avx512_core_amx"
    // Empty, or why this precision runs slower than it could here (e.g. bf16 without bf16 instructions: emulated).
    std::string precision_note;
    bool pick = false;                       // supports_pick()
  };
  Info info() const;

  // Decodes nothing: `image` is raw RGB. Resizes it to the model's square input, normalises it and runs the image
  // encoder. Safe to call concurrently (see the contract above).
  ImageEmbedding encode(const ImageView& image, const EncodeParams& params = encode_default_params()) const;
  // Decodes an image file (JPEG or PNG), then encode().
  ImageEmbedding encode_file(const std::string& image_path, const EncodeParams& params = encode_default_params()) const;
  // Reads an embedding written by ImageEmbedding::save(); throws if it was made by a model with another config.
  ImageEmbedding load_embedding(const std::string& path) const;

  struct Impl;  // library internal
  const Impl& impl() const;

 private:
  Model();
  std::unique_ptr<Impl> impl_;
};

// ---- per-image state ----------------------------------------------------------------------------------------------

// One image being worked on: its embedding and scratch memory that is reused from call to call (so a session that
// encodes many images, or prompts one image many times, does not go back to the allocator). One thread at a time.
class ImageState {
 public:
  explicit ImageState(std::shared_ptr<const Model> model);
  ~ImageState();
  ImageState(ImageState&&) noexcept;
  ImageState& operator=(ImageState&&) noexcept;

  // Encodes an image into this state (replacing any previous one).
  void set_image(const ImageView& image, const EncodeParams& params = encode_default_params());
  // Uses an embedding computed earlier (e.g. loaded from disk); it must come from a model with the same config.
  void set_embedding(const ImageEmbedding& embedding);
  bool has_image() const;
  const ImageEmbedding& embedding() const;  // throws if no image was set
  const Model& model() const;

  // Scratch memory the state keeps between calls so that the next encode or prompt does not go back to the
  // allocator: the encoder's plan after set_image(), grown to the largest prompt's need by segment(), plus up to two
  // blocks of mask logits given back by dropped PromptResults (66 MB each at full size) for the next prompts.
  size_t scratch_bytes() const;
  // Bytes of the interactive features a pick() computed and keeps for this image (0 before the first pick, or when
  // the embedding already held them: ImageEmbedding::pick_bytes counts those), plus what the picks without a mask
  // input share (the image tokens and their first projections, ~13 MB at full size, kept after the first of them).
  size_t pick_bytes() const;
  // Bytes of what the prompts on this image share, kept after the first of them (0 before): the fusion encoder's
  // image-only start and the pixel decoder's image-only convolutions, ~111 MB at full size. Dropped when the image
  // changes.
  size_t prompt_cache_bytes() const;
  // Frees that scratch memory (the next call allocates what it needs again). For callers that keep many states
  // alive, e.g. a server's sessions, so that an idle state holds only its embedding.
  void release_scratch();

  struct Impl;  // library internal
  Impl& impl();

 private:
  std::unique_ptr<Impl> impl_;
};

// ==== Segmentation (owner: pipeline) ================================================================================
// Promptable concept segmentation on an image set into an ImageState, as Sam3Processor does it:
//
//   sam3::ImageState state(model);
//   state.set_image(image);                                          // or set_embedding(model->load_embedding(...))
//   sam3::Prompt dog;   dog.text = "dog";
//   sam3::Prompt cup;   cup.boxes.push_back(sam3::PromptBox::from_xyxy(10, 20, 110, 140, W, H));   // text "visual"
//   sam3::SegmentResult r = sam3::segment(state, {dog, cup});        // one PromptResult per prompt, in order
//   sam3::PromptResult lower = sam3::rethreshold(r.prompts[0], 0.3f);   // no model run
//
// Every prompt is an independent query of the model (its own text, boxes and instances), exactly like a fresh
// Sam3Processor prompt on the same image; several prompts in one call share the image-level work (text features
// are cached per model, the box-free geometry tokens per image). segment() uses the state's scratch memory: one
// thread at a time per ImageState (the contract above); different ImageStates may segment concurrently.

// One exemplar box in the form Sam3Processor.add_geometric_prompt takes: centre x, centre y, width, height,
// normalised to [0, 1] by the ORIGINAL image's width and height; positive (true) or negative (false) exemplar.
struct PromptBox {
  float cx = 0, cy = 0, w = 0, h = 0;
  bool positive = true;
  // Pixel corners (x0, y0, x1, y1) of the original image -> normalised cxcywh, in float32 exactly as a user of the
  // official processor computes it: box_xyxy_to_cxcywh ((x0+x1)/2, (y0+y1)/2, x1-x0, y1-y0), then / [W, H, W, H].
  // No checks beyond the image size: the corners are used as given.
  static PromptBox from_xyxy(float x0, float y0, float x1, float y1, int image_width, int image_height,
                             bool positive = true);
  // A box a user gave in pixels (the CLI's --box, the server's "box"), checked and clipped, then from_xyxy():
  //   * a non-finite corner, or a degenerate box (x1 <= x0 or y1 <= y0: no area) -> sam3::Error;
  //   * a box with no area inside the image (wholly outside, or touching it only along an edge) -> sam3::Error;
  //   * a box partly outside -> clipped to [0, W] x [0, H] (a box inside is passed on bit for bit).
  // Messages name the box ("degenerate box [50, 2, 10, 4]: ..."); callers prefix where it came from.
  static PromptBox from_user_xyxy(float x0, float y0, float x1, float y1, int image_width, int image_height,
                                  bool positive = true);
  // The checks of from_user_xyxy() that need no image (finite, not degenerate), so that front ends can reject a bad
  // box before loading or encoding anything. Throws sam3::Error as from_user_xyxy() does.
  static void check_user_xyxy(float x0, float y0, float x1, float y1);
  // The pixel corners again: (cx - w/2)·W, (cy - h/2)·H, (cx + w/2)·W, (cy + h/2)·H.
  void to_xyxy(int image_width, int image_height, float xyxy[4]) const;
};

// A prompt: a text (noun phrase), exemplar boxes, or both. Boxes are used in the order given (upstream appends them
// in call order). An empty text with boxes means "boxes only": the text "visual" is encoded, as upstream does. A
// prompt with neither is an error.
struct Prompt {
  std::string text;
  std::vector<PromptBox> boxes;
};

struct SegmentParams {
  int n_threads = 0;        // 0: one per online CPU
  float threshold = 0.5f;   // keep a query when score > threshold (strict, as upstream); score in [0, 1]
  bool masks = true;        // instance masks at the original image size (false: scores and boxes only)
  bool semantic = true;     // the semantic mask (semantic_seg head, same post-processing as instance masks)
  // Record every per-prompt intermediate (fixture names: text.*, geo.*, prompt.*, enc.*, dec.*, score.*, seg.*,
  // out.*, final.*) into <dir>/prompt<i>.safetensors. Empty: $SAM3_DUMP if set, else nothing.
  std::string dump_dir;
};
SegmentParams segment_default_params();

// A binary mask at the original image size, held as run lengths: COCO's uncompressed RLE, the counts of
// pycocotools' mask.encode before compression. The pixels are read in COLUMN-major order (x outer, y inner) as
// alternating runs of 0s and 1s, the first a run of 0s (of length 0 when pixel (0, 0) is set); the runs sum to
// width·height. Masks are encoded as they are made (segment, rethreshold, pick: a per-thread scratch bitmap, encoded
// at once), so a result holds 4 bytes a run (an object crossing a column adds two) instead of a byte a pixel; a
// bitmap exists only when asked for (to_bitmap).
struct Mask {
  int width = 0, height = 0;
  std::vector<uint32_t> counts;  // the runs; empty when no mask was made (an all-0 mask is {width·height})

  bool empty() const { return counts.empty(); }  // no mask was made (SegmentParams::masks false, ...)
  int64_t area() const;                          // number of 1 pixels (the sum of the odd-indexed runs)
  // Row-major height·width bytes, 0 or 1 (bitmap[y·width + x]). Throws sam3::Error if the runs do not sum to
  // width·height. The second form writes into height·width bytes the caller owns.
  std::vector<uint8_t> to_bitmap() const;
  void to_bitmap(uint8_t* out) const;
  // The runs of a row-major height·width bitmap (nonzero = inside). Linear in the pixels.
  static Mask from_bitmap(const uint8_t* rowmajor, int width, int height);
  bool operator==(const Mask& o) const { return width == o.width && height == o.height && counts == o.counts; }
  bool operator!=(const Mask& o) const { return !(*this == o); }
};

// One detected instance (a kept query).
struct Instance {
  int query = 0;        // index of the decoder query it comes from (results are in ascending query order)
  float score = 0;      // sigmoid(class logit) · sigmoid(presence logit)
  float box[4] = {};    // x0, y0, x1, y1 in original-image pixels; NOT clipped to the image (as upstream)
  Mask mask;            // empty when SegmentParams::masks is false
};

// Wall time of one prompt, milliseconds.
struct PromptTimings {
  double text_ms = 0;         // tokenizer + text encoder (≈0 when the text was cached)
  double geometry_ms = 0;     // geometry encoder (boxes, CLS) + prompt assembly
  double fusion_ms = 0;       // fusion encoder
  double decoder_ms = 0;      // DETR decoder + box head
  double scoring_ms = 0;      // dot-product scoring
  double mask_head_ms = 0;    // segmentation head (pixel decoder, instance and semantic heads)
  double postprocess_ms = 0;  // threshold, boxes, mask up-sampling
  double total_ms = 0;
};

// Raw per-query outputs kept so that a result can be re-thresholded without running the model (library internal).
struct PromptOutputs;

struct PromptResult {
  Prompt prompt;              // as given
  std::string text_used;      // the text actually encoded ("visual" for a boxes-only prompt)
  bool text_cached = false;   // the text features came from the model's cache
  float threshold = 0.5f;
  int image_width = 0, image_height = 0;
  std::vector<Instance> instances;
  Mask semantic;              // empty when SegmentParams::semantic is false
  std::vector<float> probs;   // score of every query (instances are those with probs[q] > threshold)
  PromptTimings timings;
  std::shared_ptr<const PromptOutputs> outputs;  // raw logits, boxes and mask logits of every query
};

struct SegmentResult {
  int image_width = 0, image_height = 0;
  std::vector<PromptResult> prompts;  // one per prompt, in the order given
  double total_ms = 0;
};

// Runs every prompt on the state's image. Throws sam3::Error (naming the prompt) for an empty prompt, a text the
// tokenizer rejects, non-finite boxes, or when no image is set.
SegmentResult segment(ImageState& state, const std::vector<Prompt>& prompts,
                      const SegmentParams& params = segment_default_params());
PromptResult segment(ImageState& state, const Prompt& prompt, const SegmentParams& params = segment_default_params());

// The same prompt's result at another threshold, from the kept raw outputs (post-processing only). `masks`: also
// up-sample the instance masks. Throws if `result` has no raw outputs.
PromptResult rethreshold(const PromptResult& result, float threshold, int n_threads = 0, bool masks = true);

// Bytes of memory a result holds: instance masks, semantic mask, probs and the raw outputs it keeps (shared between
// copies of the result, counted in full).
int64_t result_memory_bytes(const PromptResult& result);

// ---- comparing two runs on the same inputs (`sam3 compare`, the precision tests: docs/precision.md) ------------------

// Cosine similarity of two embeddings of the same image, one per FPN level. Throws if their shapes differ.
std::vector<double> embedding_cosines(const ImageEmbedding& a, const ImageEmbedding& b);

// Two results of the same prompt on the same image (e.g. f32 and bf16). Queries are matched by index.
struct PromptComparison {
  double max_prob_delta = 0;  // max over all queries of |prob_a − prob_b|
  int kept_a = 0, kept_b = 0, kept_both = 0;
  int kept_differ = 0;        // queries kept by one side only
  int kept_differ_far = 0;    // ... of which one side's score is farther than `margin` from the threshold
  int masks_compared = 0;     // queries kept by both whose masks both results have
  double min_mask_iou = 1, mean_mask_iou = 1;  // over those (1 when there are none; two empty masks: IoU 1)
  double max_box_delta_px = 0;     // over queries kept by both: max coordinate difference, image pixels
  double max_box_delta_input = 0;  // the same in pixels of the model's square input (input_size per side)
};
// Throws if the two results are not of the same image size and query count.
PromptComparison compare_prompt_results(const PromptResult& a, const PromptResult& b, int input_size,
                                        float margin = 0.01f);

// ---- the JSON result document (docs/segment.md, "schema": "sam3.segment/1") ---------------------------------------
// The one writer of the result schema, used by `sam3 segment -o` and by every server route that returns results.
// The document is
//   {"schema", ["session_id"], ["model": {"path", "config"}], "image": {["path"], "width", "height", ["embedding"]},
//    ["threshold"], "prompts": [{..., ["cached"]}], "timings_ms": {...}, ["processing_time_ms"]}
// where the bracketed parts are what a front end adds through ResultJsonParams.
struct ResultJsonParams {
  int indent = -1;                 // -1: one line; n >= 0: one value a line, indented by n spaces a level
  bool semantic = true;            // write each prompt's semantic mask (when the result has one)
  std::string session_id;          // "session_id" (the server's sessions); empty: left out
  std::string model_path;          // "model": {"path": model_path, "config": model_config}; empty: left out
  std::string model_config;
  std::string image_path;          // "image": {"path": ...}; empty: left out
  std::string embedding_path;      // "image": {"embedding": ...}; empty: left out
  bool threshold = false;          // a top-level "threshold": the prompts' threshold (the CLI's --threshold)
  std::vector<bool> cached;        // per prompt, "cached": answered from kept raw outputs; empty: left out
  // The top-level "timings_ms", in this order; empty: {"segment": SegmentResult::total_ms}.
  std::vector<std::pair<std::string, double>> timings_ms;
  bool processing_time = false;    // "processing_time_ms": the "total" of timings_ms
};
ResultJsonParams result_json_default_params();

// The result document as JSON text (UTF-8; no trailing newline). Throws sam3::Error when `params.cached` does not
// have one entry per prompt, or a text is not valid UTF-8.
std::string result_to_json(const SegmentResult& result, const ResultJsonParams& params = result_json_default_params());

// ---- more image-file helpers --------------------------------------------------------------------------------------

// Reads and decodes a JPEG or PNG file (errors name the path; `max_pixels` as decode_image_bytes()).
RgbImage read_image_file(const std::string& path, int64_t max_pixels = 100'000'000);
// The overlay `sam3 segment --overlay` draws (masks blended in distinct colours, boxes, scores, exemplar boxes) over
// `image`, which must have the result's size, encoded as a PNG file's bytes.
std::vector<uint8_t> render_overlay_png(const ImageView& image, const SegmentResult& result);
// pycocotools' compressed RLE "counts" string of a mask (mask.encode: column-major runs, zeros first), written from
// the mask's runs. Throws sam3::Error if they do not sum to width·height.
std::string mask_to_coco_rle(const Mask& mask);

// ==== Datasets: COCO results of many images (`sam3 batch`, Python's sam3.dask; docs/batch.md) ======================
// One output directory holds a run: run.json (what the results depend on), the per-image records (records.jsonl,
// appended by `sam3 batch`, and shards/*.jsonl, written whole by sam3.dask's tasks) and, merged from the records,
// results.json (the COCO results list), images.json (COCO "images" + "categories") and failed.json. Every front end
// uses these functions, so their files are byte for byte the same.

// The image files `inputs` name, in order: a directory gives its files ending in .jpg, .jpeg or .png (any case),
// recursively, sorted by path (byte order); a path ending so is that image; any other path is a list file: one image
// path a line, blank lines and lines starting with '#' skipped, relative paths relative to the list file's
// directory. Throws sam3::Error naming an input that cannot be read, or an image named twice.
std::vector<std::string> list_image_files(const std::vector<std::string>& inputs);

// What a run's results depend on besides the images. Category ids are 1..n in the order of `categories`.
struct BatchRun {
  std::string config;                   // the model's config_name()
  float threshold = 0.5f;
  std::vector<std::string> categories;  // one name per prompt (its text; "visual" for boxes only)
  std::string box_file_digest;          // a digest of the per-image boxes, "" when there are none
  std::string precision;                // the model's Info::precision ("f32", ...): results depend on it
};
// Creates `dir` (and dir/shards) if needed and writes dir/run.json, or checks that the run.json there describes the
// same run: throws sam3::Error saying what differs otherwise (a resumed run must not mix results).
void batch_prepare_dir(const std::string& dir, const BatchRun& run);

// One record (a line of JSON, no newline) for an image done: {"image": {"id", "file_name", "width", "height"},
// "annotations": [{"image_id", "category_id", "bbox": [x, y, w, h], "score", "area", "segmentation": {"size",
// "counts"}}, ...]} with prompt i's instances under category_ids[i] (ascending query order within a prompt).
std::string batch_image_record(const SegmentResult& result, int64_t image_id, const std::string& file_name,
                               const std::vector<int64_t>& category_ids);
// One record for an image that could not be read or segmented: {"failed": {"id", "file_name", "error"}}.
std::string batch_failure_record(int64_t image_id, const std::string& file_name, const std::string& error);

// Per image of `image_files` (image id = index + 1): 1 when dir's records hold it done. Failed images count as not
// done (a rerun tries them again). A record whose file name differs from image_files' throws sam3::Error (the
// directory holds another dataset). A last line cut short by a crash is ignored.
std::vector<uint8_t> batch_finished(const std::string& dir, const std::vector<std::string>& image_files);

struct BatchSummary {
  int64_t images = 0;       // in image_files
  int64_t done = 0;         // with results
  int64_t failed = 0;       // whose last attempt failed
  int64_t annotations = 0;  // instances in results.json
};
// Merges dir's records into results.json, images.json and failed.json (each written to a temporary file, then
// renamed over the old one), in image id order. Throws sam3::Error on a record that does not parse or whose file
// name differs from image_files'.
BatchSummary batch_merge(const std::string& dir, const BatchRun& run, const std::vector<std::string>& image_files);

// ==== Interactive segmentation: pick =================================================================================
// One object's masks from clicks, a box and / or the low-res logits of a previous pick, as the official
// Sam3Image.predict_inst (the "SAM 1 task"). Needs a checkpoint with the interactive weights (Model::supports_pick).
//
//   sam3::PickPrompt p;  p.points = {{470, 420, true}};                 // one positive click: 3 candidates
//   sam3::PickResult r = sam3::pick(state, p);
//   sam3::PickPrompt more = p;  more.points.push_back({250, 150, false});   // refine with a negative click
//   more.mask_logits = r.masks[r.best()].low_res_logits;
//   r = sam3::pick(state, more);
//
// The first pick on an image runs the SAM2 neck on the kept ViT output (PickResult::timings.neck_ms) unless the
// embedding already holds the interactive features (EncodeParams::pick_features, or a saved embedding that has them).

struct PickPoint {
  float x = 0, y = 0;     // original-image pixels (continuous: the pixel (i, j) spans [i, i+1) x [j, j+1))
  bool positive = true;   // false: a negative click ("not this")
};

struct PickPrompt {
  std::vector<PickPoint> points;  // in the order clicked
  bool has_box = false;
  float box[4] = {};              // x0, y0, x1, y1 pixels; partly outside the image is accepted (not clipped)
  std::vector<float> mask_logits;  // empty, or low_res_size^2 logits of a previous pick (PickMask::low_res_logits)
  int multimask = -1;             // 1: 3 candidates, 0: one mask, -1: 3 for a single click (one point, no box or
                                  // mask), else one (upstream's advice)
  // Points outside [0, W] x [0, H] are an error unless this is set (upstream accepts them).
  bool allow_points_outside = false;
};

struct PickParams {
  int n_threads = 0;     // 0: one per online CPU
  bool masks = true;     // full-size masks (false: IoU, box and low-res logits only... boxes then come from them)
  // Record the intermediates (pvs.*, dec.*) into <dir>/pick.safetensors. Empty: $SAM3_DUMP if set, else nothing.
  std::string dump_dir;
};
PickParams pick_default_params();

struct PickMask {
  float iou = 0;                    // predicted IoU
  float box[4] = {};                // x0, y0, x1, y1 of the mask's pixels (x1, y1 exclusive); zeros when empty
  int64_t area = 0;                 // mask pixels
  Mask mask;                        // at the original image size (empty when PickParams::masks is false)
  std::vector<float> low_res_logits;  // low_res_size^2, clamped to ±32: feed back as PickPrompt::mask_logits
};

struct PickTimings {
  double neck_ms = 0;         // the SAM2 neck, on the image's first pick only (0 when its features were ready)
  double decoder_ms = 0;      // prompt encoder + mask decoder
  double postprocess_ms = 0;  // hole filling, up-sampling, boxes
  double total_ms = 0;
};

struct PickResult {
  int image_width = 0, image_height = 0;
  int low_res_size = 0;              // side of the low-res logits (288 for SAM 3)
  bool multimask = false;            // what was used
  float object_score_logit = 0;      // > 0: the model thinks an object is there
  std::vector<PickMask> masks;       // 3 (multimask) or 1, in the model's order
  PickTimings timings;
  int best() const;                  // index of the highest predicted IoU (the first on ties)
};

// Throws sam3::Error for a model without the interactive weights, no image, no prompt at all, a non-finite or
// outside point, a degenerate box, or mask logits of the wrong size. One thread at a time per ImageState.
PickResult pick(ImageState& state, const PickPrompt& prompt, const PickParams& params = pick_default_params());

// The pick result as a result document ("schema": "sam3.segment/1", docs/pick.md): one prompt whose "instances"
// are the masks in the model's order, each with "score" = predicted IoU, "box", "area", "mask" (COCO RLE), plus
// "object_score" (sigmoid of the logit) and "object_score_logit". `params` as for result_to_json (semantic ignored).
std::string pick_result_to_json(const PickResult& result,
                                const ResultJsonParams& params = result_json_default_params());

}  // namespace sam3

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
#include <cstdint>
#include <memory>
#include <string>

namespace sam3 {

// ---- parameters (whisper.cpp style: take the defaults, change what you need) --------------------------------------

struct ModelParams {
  // Config document (JSON, as ../shared/golden/tiny/config.json). Empty: the config stored in the weights file's
  // metadata if there is one, else the built-in preset "sam3" (the official model).
  std::string config_path;
  // Check every tensor of the image model against the config when loading (names, shapes, dtypes), all at once.
  bool validate_weights = true;
};
ModelParams model_default_params();

struct EncodeParams {
  int n_threads = 0;     // 0: one per online CPU
  // Record every intermediate (fixture names: vit.*, neck.*, ...) into <dir>/image.safetensors. Empty: the
  // directory named by the environment variable SAM3_DUMP, if set; otherwise nothing is recorded.
  std::string dump_dir;
};
EncodeParams encode_default_params();

// An RGB image, 8 bits per channel, interleaved (HWC), rows top to bottom, no padding between rows. Borrowed: the
// pixels must stay valid during the call that receives it.
struct ImageView {
  const uint8_t* rgb = nullptr;
  int width = 0, height = 0;
};

// Wall time of one encode, milliseconds.
struct EncodeTimings {
  double preprocess_ms = 0;     // resize to the model's square input + normalisation
  double patch_embed_ms = 0;    // patch projection, absolute positions, ln_pre
  double window_blocks_ms = 0;  // ViT blocks with windowed attention
  double global_blocks_ms = 0;  // ViT blocks with global attention
  double neck_ms = 0;           // FPN levels (+ layout change of the trunk output)
  double total_ms = 0;          // everything, preprocess included
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
  double load_seconds() const;  // wall time load() took

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

  struct Impl;  // library internal
  Impl& impl();

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sam3

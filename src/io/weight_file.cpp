// ref: sam3/model_builder.py (_load_checkpoint: keeps "detector" keys, strips the prefix)
#include "io/weight_file.h"

#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "io/mmap_file.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"

namespace sam3 {

namespace {

constexpr const char* kImagePrefix = "detector.";
constexpr const char* kSkipAfterStrip[] = {"backbone.vision_backbone.sam2_convs.", "tracker."};

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool skipped_after_strip(const std::string& k) {
  for (const char* p : kSkipAfterStrip) {
    if (starts_with(k, p)) return true;
  }
  return false;
}

}  // namespace

bool interactive_key(const std::string& key, std::string* stored) {
  static constexpr const char* kTracker[] = {"tracker.sam_prompt_encoder.", "tracker.sam_mask_decoder.",
                                             "tracker.no_mem_embed"};
  for (const char* p : kTracker)
    if (starts_with(key, p)) {
      if (stored) *stored = key;
      return true;
    }
  std::string k = starts_with(key, kImagePrefix) ? key.substr(std::strlen(kImagePrefix)) : key;
  if (!starts_with(k, kSkipAfterStrip[0])) return false;
  if (stored) *stored = std::move(k);
  return true;
}

bool image_model_key(const std::string& key, std::string* stripped) {
  if (!starts_with(key, kImagePrefix)) return false;
  std::string k = key.substr(std::strlen(kImagePrefix));
  if (skipped_after_strip(k)) return false;  // detector.backbone.vision_backbone.sam2_convs.* (video neck)
  if (stripped) *stripped = std::move(k);
  return true;
}

void WeightFile::release(const Tensor& t) const {
  if (mapping && t.keepalive() == keepalive && t.raw()) mapping->release(t.raw(), t.nbytes());
}

namespace {

WeightFile from_torch_checkpoint(TorchCheckpoint ck, const std::string& path) {
  WeightFile wf;
  wf.format = "torch";
  wf.keepalive = ck.keepalive;
  bool has_prefix = false;
  for (const auto& kv : ck.tensors) has_prefix = has_prefix || starts_with(kv.first, kImagePrefix);
  for (auto& [key, t] : ck.tensors) {
    std::string k;
    bool keep = has_prefix ? image_model_key(key, &k) : !skipped_after_strip(key);
    if (!has_prefix) k = key;
    if (keep && !wf.tensors.emplace(k, t).second)
      throw Error("torch checkpoint '" + path + "': two keys map to '" + k + "'");
    if (!keep) wf.skipped.push_back(key);
    if (std::string ik; !keep && interactive_key(key, &ik)) wf.interactive.emplace(ik, t);
  }
  for (std::string& k : ck.non_tensors) wf.skipped.push_back(std::move(k));
  return wf;
}

}  // namespace

WeightFile load_torch_checkpoint(const std::string& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  WeightFile wf = from_torch_checkpoint(read_torch_checkpoint(file), path);
  wf.mapping = std::move(file);
  return wf;
}

WeightFile load_weight_file(const std::string& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);  // throws naming the path
  if (file->size() >= 2 && file->data()[0] == 'P' && file->data()[1] == 'K') {
    WeightFile wf = from_torch_checkpoint(read_torch_checkpoint(file), path);
    wf.mapping = std::move(file);
    return wf;
  }
  TensorFile st = read_safetensors(file);
  WeightFile wf;
  wf.format = "safetensors";
  for (auto& [key, t] : st.tensors) {
    if (std::string ik; interactive_key(key, &ik))
      wf.interactive.emplace(ik, t);
    else
      wf.tensors.emplace(key, t);
  }
  wf.metadata = std::move(st.metadata);
  wf.keepalive = std::move(st.keepalive);
  wf.mapping = std::move(file);
  return wf;
}

}  // namespace sam3

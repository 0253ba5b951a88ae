// Fuzz target: the image-embedding loader (model/image_embedding.h load_image_features) for the tiny test config,
// on a memfd.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "model/config.h"
#include "model/image_embedding.h"

namespace {

// The tiny fixture's shape family: small enough that a valid embedding is a few hundred KB.
sam3::Config fuzz_config() {
  sam3::Config c = sam3::config_preset("sam3");
  c.name = "fuzz";
  c.vit.img_size = 56;
  c.vit.patch_size = 14;
  c.d_model = 8;
  c.pos_enc.num_pos_feats = 8;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sam3::Config cfg = fuzz_config();
  sam3::fuzz::MemFile f(data, size);
  try {
    const sam3::ImageFeatures feat = sam3::load_image_features(f.path(), cfg);
    if (feat.image_width <= 0 || feat.image_height <= 0) __builtin_trap();
  } catch (const sam3::Error&) {
  }
  return 0;
}

// sam3.cpp — the image a `segment` or `pick` command works on (see command_image.h).
#include "command_image.h"

#include <cstdio>

#include "core/error.h"
#include "core/timer.h"
#include "io/image_decode.h"

namespace sam3::cli {

CommandImage set_command_image(ImageState& state, const std::string& image_path, const std::string& embedding_path,
                               int n_threads, const char* who) {
  CommandImage out;
  if (!image_path.empty()) {
    const auto t0 = Clock::now();
    out.image = decode_image_file(image_path);
    out.decode_ms = ms_since(t0);
  }
  const auto t_enc = Clock::now();
  if (!embedding_path.empty()) {
    state.set_embedding(state.model().load_embedding(embedding_path));
    const Image& image = out.image;
    if (!image.empty() && (state.embedding().image_width() != image.width ||
                           state.embedding().image_height() != image.height))
      throw Error("the embedding " + embedding_path + " was made from a " +
                  std::to_string(state.embedding().image_width()) + "x" +
                  std::to_string(state.embedding().image_height()) + " image, but " + image_path + " is " +
                  std::to_string(image.width) + "x" + std::to_string(image.height));
  } else {
    std::fprintf(stderr, "%s: encoding %s (%lldx%lld) ...\n", who, image_path.c_str(),
                 static_cast<long long>(out.image.width), static_cast<long long>(out.image.height));
    EncodeParams ep = encode_default_params();
    ep.n_threads = n_threads;
    state.set_image(out.image, ep);  // the decoded pixels, read in place
  }
  out.encode_ms = ms_since(t_enc);
  return out;
}

}  // namespace sam3::cli

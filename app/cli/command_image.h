// sam3.cpp — the image a `segment` or `pick` command works on: `-i IMAGE` decoded and encoded into the state, or
// `--embedding E` from `sam3 encode` (checked against the image's size when both are given).
#pragma once
#include <string>

#include "io/image.h"
#include "sam3/sam3.h"

namespace sam3::cli {

struct CommandImage {
  Image image;  // empty when only an embedding was given
  double decode_ms = 0, encode_ms = 0;  // encode_ms: the encode, or loading the embedding
};

// Sets `state`'s image from `image_path` and/or `embedding_path` (at least one non-empty); `who` prefixes the
// progress line on stderr. Throws sam3::Error for unreadable files or an embedding of another image size.
CommandImage set_command_image(ImageState& state, const std::string& image_path, const std::string& embedding_path,
                               int n_threads, const char* who);

}  // namespace sam3::cli

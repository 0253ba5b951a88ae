// sam3.cpp — PNG encoding (libpng), for overlays and debugging output.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/image.h"

namespace sam3 {

// Encodes 8-bit pixels, row-major interleaved, `channels` = 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA), as a
// non-interlaced PNG. `compression` is zlib's level 0..9. Throws sam3::Error on bad arguments or libpng failure.
std::vector<uint8_t> encode_png(const uint8_t* pixels, int64_t width, int64_t height, int channels,
                                int compression = 6);
std::vector<uint8_t> encode_png(const Image& img, int compression = 6);

// encode_png() written to `path` atomically (io/atomic_file.h; errors name the path).
void write_png_file(const std::string& path, const uint8_t* pixels, int64_t width, int64_t height, int channels,
                    int compression = 6);
void write_png_file(const std::string& path, const Image& img, int compression = 6);

}  // namespace sam3

// sam3.cpp — COCO run-length encoding of binary masks, byte-compatible with pycocotools (mask.encode / decode /
// area and the compressed "counts" string of rleToString / rleFrString).
//
// A mask of size h×w is scanned in COLUMN-major order (pycocotools encodes np.asfortranarray masks); the counts
// alternate runs of 0s and 1s and always start with a run of 0s (possibly of length 0). The compressed string
// writes each count (from the fourth on, as the difference to the count two before) in little-endian groups of 5
// bits, 6 bits per char (bit 5 = "more follows", bit 4 of the last group = sign), each char offset by 48 ('0').
// ref: pycocotools/common/maskApi.c (rleEncode, rleDecode, rleArea, rleToString, rleFrString)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sam3 {

struct Rle {
  int64_t h = 0, w = 0;          // pycocotools "size": [h, w]
  std::vector<uint32_t> counts;  // alternating runs, zeros first; sum == h*w
};

// mask: h*w bytes, ROW-major (row y at mask + y*w), nonzero = foreground.
Rle rle_encode(const uint8_t* mask, int64_t h, int64_t w);
// Row-major h*w bytes of 0/1. Throws sam3::Error if the counts do not sum to h*w.
std::vector<uint8_t> rle_decode(const Rle& rle);
// Number of foreground pixels (sum of the odd-indexed runs).
int64_t rle_area(const Rle& rle);

// pycocotools' compressed counts string (the "counts" of mask.encode, as text).
std::string rle_to_string(const Rle& rle);
// Inverse of rle_to_string. Throws sam3::Error on a malformed string (bad char, truncated value, negative or
// overflowing count, counts not summing to h*w).
Rle rle_from_string(const std::string& counts, int64_t h, int64_t w);

}  // namespace sam3

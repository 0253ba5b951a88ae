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

// ---- on bare counts (what sam3::Mask holds; the Rle functions below call these) ----------------------------------

// The runs of a ROW-major h*w mask (row y at mask + y*w, nonzero = foreground), in the column-major order above.
// One pass over the rows (the pixels are read in memory order, 8 at a time where a row equals the one above), then
// a counting sort of the transitions by column: O(h*w + runs), no column-strided reads. Throws sam3::Error for a
// negative size or more than 2^32 - 1 pixels (a run would not fit its uint32).
std::vector<uint32_t> rle_counts_encode(const uint8_t* mask, int64_t h, int64_t w);
// Decodes counts into `out` (h*w bytes, ROW-major, 0/1): a sweep over the rows that toggles the columns whose run
// changes at that row, O(h*w + runs), each row written once in order. Throws sam3::Error if the counts do not sum
// to h*w (before writing anything).
void rle_counts_decode(const std::vector<uint32_t>& counts, int64_t h, int64_t w, uint8_t* out);
// Sum of the odd-indexed runs.
int64_t rle_counts_area(const std::vector<uint32_t>& counts);
// Foreground pixels two masks share, from their runs (a merge of the two run lists, O(runs)). Throws sam3::Error
// if the counts do not sum to the same total.
int64_t rle_counts_intersection(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
// The tight box of the foreground of an h-row mask: the first and last column and row holding a 1, inclusive
// (a run of 1s that spans columns covers every row). False, and the box untouched, when there is none. O(runs).
bool rle_counts_bounds(const std::vector<uint32_t>& counts, int64_t h, int64_t* x0, int64_t* y0, int64_t* x1,
                       int64_t* y1);
// Sum of the runs (== h*w for a valid mask).
int64_t rle_counts_total(const std::vector<uint32_t>& counts);
// pycocotools' compressed counts string of these runs.
std::string rle_counts_to_string(const std::vector<uint32_t>& counts);

// ---- on Rle (h, w and counts) -------------------------------------------------------------------------------------

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

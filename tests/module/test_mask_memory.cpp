// Issue 10, finding 3 (docs/security.md): a result holds its masks as runs, each made in a per-thread scratch
// bitmap and encoded at once, never as one H×W bitmap per kept query. Threshold 0 keeps every query of the tiny
// model (golden/tiny) on the 1280×720 fixture image; the test checks that
//   - every instance mask and the semantic mask equal the bitmaps the old code kept (upsample_mask of the query's
//     logits into a full H×W buffer), pixel for pixel, with the same area; re-thresholding on 1 and 2 threads
//     makes the same masks;
//   - a mask's runs stay within the bound of an up-sampled mask: the logits are a piecewise-linear (bilinear)
//     interpolation of h×w low-res values, so each column crosses the threshold at most once between two low-res
//     rows, at most h times in all: at most W·(h + 1) + 1 runs (the +1s: a column's first run, the last run);
//   - result_memory_bytes counts exactly the runs (4 bytes each), the probs and the raw outputs, and the masks'
//     share is far below the (Q + 1)·H·W bytes of bitmaps (at least 10x on these noisy random-weight masks).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/internal.h"
#include "fixture.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "model/postprocess.h"
#include "sam3/sam3.h"

using namespace sam3;
using namespace sam3::test;

namespace {

std::shared_ptr<const Model> tiny() {
  static std::shared_ptr<const Model> m = [] {
    ModelParams p = model_default_params();
    p.dtype = "f32";
    p.config_path = golden_path("tiny/config.json");
    return Model::load(golden_path("tiny/sam3_random.pt"), p);
  }();
  return m;
}

int64_t tensor_bytes(const Tensor& t) { return t.defined() ? static_cast<int64_t>(t.nbytes()) : 0; }

// The old way: one query's logits [h, w] up-sampled into a full H×W bitmap.
std::vector<uint8_t> old_bitmap(const Tensor& logits, int64_t q, int64_t H, int64_t W) {
  const int64_t h = logits.size(-2), w = logits.size(-1);
  std::vector<uint8_t> m(static_cast<size_t>(H * W));
  upsample_mask(logits.f32() + q * h * w, h, w, H, W, nullptr, m.data(), 1);
  return m;
}

int64_t ones(const std::vector<uint8_t>& m) {
  int64_t n = 0;
  for (uint8_t v : m) n += v;
  return n;
}

TEST(MaskMemory, ThresholdZeroHoldsRunsNotBitmaps) {
  const Image img = decode_image_file(golden_path("images/test_image.jpg"));
  ImageState st(tiny());
  EncodeParams ep = encode_default_params();
  ep.n_threads = 2;
  st.set_image(ImageView{img.pixels.data(), static_cast<int>(img.width), static_cast<int>(img.height)}, ep);
  SegmentParams sp = segment_default_params();
  sp.n_threads = 2;
  sp.threshold = 0.0f;
  const PromptResult r = segment(st, Prompt{"a person", {}}, sp);
  const int64_t H = r.image_height, W = r.image_width, Q = static_cast<int64_t>(r.probs.size());
  ASSERT_EQ(H, 720);
  ASSERT_EQ(W, 1280);
  ASSERT_GT(Q, 1);
  ASSERT_EQ(static_cast<int64_t>(r.instances.size()), Q) << "threshold 0 keeps every query";
  ASSERT_TRUE(r.outputs);
  const DetectorOutputs& raw = r.outputs->raw;
  const int64_t h = raw.pred_masks.size(-2);

  int64_t run_bytes = 0;
  size_t most_runs = 0;
  for (const Instance& in : r.instances) {
    ASSERT_EQ(in.mask.width, W);
    ASSERT_EQ(in.mask.height, H);
    const std::vector<uint8_t> want = old_bitmap(raw.pred_masks, in.query, H, W);
    ASSERT_TRUE(in.mask.to_bitmap() == want) << "query " << in.query;
    EXPECT_EQ(in.mask.area(), ones(want)) << "query " << in.query;
    EXPECT_LE(in.mask.counts.size(), static_cast<size_t>(W * (h + 1) + 1)) << "query " << in.query;
    most_runs = std::max(most_runs, in.mask.counts.size());
    run_bytes += static_cast<int64_t>(in.mask.counts.size() * sizeof(uint32_t));
  }
  ASSERT_FALSE(r.semantic.empty());
  EXPECT_TRUE(r.semantic.to_bitmap() == old_bitmap(raw.semantic_seg, 0, H, W)) << "semantic";
  run_bytes += static_cast<int64_t>(r.semantic.counts.size() * sizeof(uint32_t));

  // The accounting counts the runs, and they are a small fraction of the bitmaps the old code held.
  const int64_t raw_bytes = tensor_bytes(raw.pred_logits) + tensor_bytes(raw.pred_boxes) +
                            tensor_bytes(raw.pred_masks) + tensor_bytes(raw.semantic_seg);
  EXPECT_EQ(result_memory_bytes(r), static_cast<int64_t>(Q * sizeof(float)) + raw_bytes + run_bytes);
  const int64_t bitmap_bytes = (Q + 1) * H * W;
  std::printf("%lld masks of %lldx%lld: runs %lld bytes (most runs in one mask: %zu), bitmaps %lld bytes (%.1fx)\n",
              static_cast<long long>(Q + 1), static_cast<long long>(W), static_cast<long long>(H),
              static_cast<long long>(run_bytes), most_runs, static_cast<long long>(bitmap_bytes),
              static_cast<double>(bitmap_bytes) / static_cast<double>(run_bytes));
  // The random tiny model's masks are noisy (measured: 18.6x smaller, up to 41k runs in a mask, about 32 a column);
  // a real object crossing a column adds 2 runs there.
  EXPECT_LT(run_bytes * 10, bitmap_bytes);

  // Re-thresholding on one thread (one mask at a time, all threads inside) and on two (a mask per thread) makes
  // the same masks from the same raw outputs.
  for (int threads : {1, 2}) {
    const PromptResult again = rethreshold(r, 0.0f, threads);
    ASSERT_EQ(again.instances.size(), r.instances.size());
    for (size_t n = 0; n < r.instances.size(); ++n)
      EXPECT_TRUE(again.instances[n].mask == r.instances[n].mask) << threads << " threads, mask " << n;
    EXPECT_TRUE(again.semantic == r.semantic);
  }
}

}  // namespace

// Module test of the interactive head through the public API (pick): every tiny_pvs case, from the JPEG, with the
// tiny_pvs checkpoint and config. The run's dump (pvs.*, dec.*, out.*) is compared with the case files, the final
// masks with out.masks_packbits. The refinement case (test_image case 5) feeds the fixture's in.mask_input, and our
// own case-1 logits are checked to be that input. Also: a checkpoint without the interactive weights, bad prompts,
// the lazy SAM2 neck vs the up-front one, the embedding file holding the interactive features, the JSON document.
// Tolerances (docs/pick.md, "Numerics"):
//   * tensors: |ours - ref| <= kRelScale · max|ref| (+ kRtol·|ref|). 1e-5 of scale: the chain from the JPEG carries
//     the image encoder's error (~2e-6 of scale on its outputs, docs/numerics.md), which the SAM2 neck, the two-way
//     transformer and the upscaling convolutions do not amplify beyond that on the tiny model.
//   * IoU predictions and the object-score logit: 1e-5 absolute (sigmoids in (0, 1); a logit of O(1) terms).
//   * masks: at most kMaxMaskPixelDiff pixels differ per mask (only pixels whose up-sampled logit is within the
//     logits' error of 0 can flip; the low-res maps are 72 x 72 up-sampled to 1280 x 720, so one low-res pixel
//     covers ~180 full-size pixels and a flip along an edge moves a handful of them).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "fixture.h"
#include "io/safetensors.h"
#include "io/torch_writer.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/random_checkpoint.h"
#include "model/sam1_task_predictor.h"
#include "sam3/sam3.h"
#include "tiny_fixture.h"

using namespace sam3;
using namespace sam3::test;

namespace {

constexpr double kRelScale = 1e-5, kRtol = 1e-5;
constexpr double kIouTol = 1e-5;
// The object-score logit is one number, small only through cancellation of O(1) terms (e.g. -0.031 in test_image
// case 4, off by 9e-7): an absolute bound, as the detector tests' kAtolFloor.
constexpr double kLogitTol = 1e-5;
constexpr int64_t kMaxMaskPixelDiff = 8;

std::shared_ptr<const Model> pvs_model() {
  static std::shared_ptr<const Model> m = [] {
    ModelParams p = model_default_params();
    p.dtype = "f32";  // parity with the fixtures
    p.config_path = golden_path("tiny_pvs/config.json");
    return Model::load(golden_path("tiny_pvs/sam3_pvs_random.pt"), p);
  }();
  return m;
}

RgbImage image(const std::string& name) {
  const std::string path = golden_path("images/" + name + ".jpg");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  std::fclose(f);
  return decode_image_bytes(bytes.data(), bytes.size(), 100'000'000, path);
}

::testing::AssertionResult close_rel(const Tensor& ours, const Tensor& ref, double* ratio = nullptr) {
  const CompareStats s = compare(ours, ref, 0, 0);
  if (ratio) *ratio = s.ref_scale > 0 ? s.max_abs / s.ref_scale : s.max_abs;
  return tensors_close(ours, ref, kRelScale * s.ref_scale, kRtol);
}

// Two decoder outputs of the same prompt: masks within close_rel, IoUs within kIouTol, object score within kLogitTol.
void expect_decoder_close(const SamDecoderOutput& a, const SamDecoderOutput& b, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_TRUE(close_rel(a.masks, b.masks));
  ASSERT_EQ(a.iou.size(), b.iou.size());
  for (size_t i = 0; i < a.iou.size(); ++i) EXPECT_NEAR(a.iou[i], b.iou[i], kIouTol);
  EXPECT_NEAR(a.object_score_logit, b.object_score_logit, kLogitTol);
}

// The tiny interactive head loaded on its own (its weights stay mapped with it), and a synthetic trunk output for it:
// sin(freq · (i mod period)), smooth values of unit scale.
struct TinyPvsHead {
  Config cfg = load_config_file(golden_path("tiny_pvs/config.json"));
  WeightFile wf = load_weight_file(golden_path("tiny_pvs/sam3_pvs_random.pt"));
  Sam1TaskPredictor head{cfg, nn::ParamScope(wf.interactive, "tiny_pvs")};
  Tensor trunk(float freq, int64_t period) const {
    Tensor t = Tensor::empty({1, cfg.vit.embed_dim, cfg.vit_grid(), cfg.vit_grid()});
    for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = std::sin(freq * static_cast<float>(i % period));
    return t;
  }
};

// The case's prompt as the manifest gives it.
PickPrompt fixture_prompt(const TensorFile& c, bool multimask) {
  PickPrompt p;
  const Tensor& pts = c.get("in.point_coords_px");
  const Tensor& labels = c.get("in.point_labels");
  for (int64_t i = 0; i < labels.numel(); ++i)
    p.points.push_back({pts.f32()[2 * i], pts.f32()[2 * i + 1], labels.data<int32_t>()[i] == 1});
  const Tensor& box = c.get("in.box_xyxy_px");
  if (box.numel() == 4) {
    p.has_box = true;
    for (int k = 0; k < 4; ++k) p.box[k] = box.f32()[k];
  }
  if (c.tensors.count("in.mask_input")) {
    const Tensor& m = c.get("in.mask_input");
    p.mask_logits.assign(m.f32(), m.f32() + m.numel());
  }
  p.multimask = multimask ? 1 : 0;
  p.allow_points_outside = true;  // groceries case 3 clicks at x = 1100 on an 800-wide image (upstream accepts it)
  return p;
}

// Pixels where our mask differs from the fixture's packbits rows (numpy packbits: MSB first).
int64_t mask_diff(const Mask& ours, const uint8_t* packed) {
  int64_t diff = 0;
  const std::vector<uint8_t> bitmap = ours.to_bitmap();
  const int64_t n = static_cast<int64_t>(bitmap.size());
  for (int64_t i = 0; i < n; ++i) {
    const int bit = (packed[i / 8] >> (7 - i % 8)) & 1;
    diff += bit != bitmap[static_cast<size_t>(i)];
  }
  return diff;
}

struct Case {
  std::string image;
  int k;
  bool multimask;
};
const std::vector<Case> kCases = {{"test_image", 1, true}, {"test_image", 2, false}, {"test_image", 3, false},
                                  {"test_image", 4, true}, {"test_image", 5, false}, {"groceries", 1, true},
                                  {"groceries", 2, true},  {"groceries", 3, false}};

class PickCase : public ::testing::TestWithParam<Case> {};

TEST_P(PickCase, MatchesFixture) {
  const Case& cs = GetParam();
  const std::string stem = "tiny_pvs/" + cs.image;
  const TensorFile want = open_fixture(stem + ".pvs_case" + std::to_string(cs.k) + ".safetensors");
  const TensorFile want_img = open_fixture(stem + ".pvs_image.safetensors");
  ImageState state(pvs_model());
  const RgbImage img = image(cs.image);
  state.set_image(img.view());
  TempDir dir;
  PickParams params = pick_default_params();
  params.dump_dir = dir.path();
  params.n_threads = 2;
  const PickResult r = pick(state, fixture_prompt(want, cs.multimask), params);
  const std::string dump_path = dir.file("pick.safetensors");
  const TensorFile got = read_safetensors(dump_path);
  EXPECT_GT(r.timings.neck_ms, 0.0);  // the first pick on the image ran the SAM2 neck

  for (const char* key : {"pvs.fpn0_conv_s0", "pvs.fpn1_conv_s1", "pvs.fpn2", "pvs.no_mem_embed", "pvs.image_pe"}) {
    double ratio = 0;
    EXPECT_TRUE(close_rel(got.get(key), want_img.get(key), &ratio)) << key;
    std::printf("  %-22s max|d|/scale %.2e\n", key, ratio);
  }
  for (const char* key : {"dec.sparse", "dec.dense", "dec.masks", "out.low_res_masks"}) {
    double ratio = 0;
    EXPECT_TRUE(close_rel(got.get(key), want.get(key), &ratio)) << key;
    std::printf("  %-22s max|d|/scale %.2e\n", key, ratio);
  }
  EXPECT_TRUE(tensors_close(got.get("dec.iou_pred"), want.get("dec.iou_pred"), kIouTol, 0));
  EXPECT_TRUE(tensors_close(got.get("dec.object_score_logits"), want.get("dec.object_score_logits"), kLogitTol, 0));
  const Tensor& iou = want.get("out.iou_predictions");
  ASSERT_EQ(static_cast<int64_t>(r.masks.size()), iou.numel());
  const Tensor& packed = want.get("out.masks_packbits");
  const Tensor& counts = want.get("out.mask_pixel_counts");
  for (size_t i = 0; i < r.masks.size(); ++i) {
    EXPECT_NEAR(r.masks[i].iou, iou.f32()[i], kIouTol) << i;
    const int64_t d = mask_diff(r.masks[i].mask, packed.data<uint8_t>() + static_cast<int64_t>(i) * packed.size(1));
    std::printf("  mask %zu: %lld px differ, area %lld (fixture %lld)\n", i, static_cast<long long>(d),
                static_cast<long long>(r.masks[i].area), static_cast<long long>(counts.data<int64_t>()[i]));
    EXPECT_LE(d, kMaxMaskPixelDiff) << "mask " << i;
    EXPECT_LE(std::llabs(r.masks[i].area - counts.data<int64_t>()[i]), kMaxMaskPixelDiff) << "mask " << i;
    EXPECT_EQ(static_cast<int64_t>(r.masks[i].low_res_logits.size()), 72 * 72);
    // Area and box (read from the runs) = the mask's pixel count and tight box, x1 and y1 exclusive.
    const std::vector<uint8_t> bitmap = r.masks[i].mask.to_bitmap();
    const int W = r.image_width, H = r.image_height;
    int64_t area = 0;
    float box[4] = {0, 0, 0, 0};
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        if (!bitmap[static_cast<size_t>(y) * W + x]) continue;
        if (area++ == 0) box[0] = box[2] = static_cast<float>(x), box[1] = static_cast<float>(y);
        box[0] = std::min(box[0], static_cast<float>(x));
        box[2] = std::max(box[2], static_cast<float>(x + 1));
        box[3] = static_cast<float>(y + 1);
      }
    EXPECT_EQ(r.masks[i].area, area) << "mask " << i;
    for (int k = 0; k < 4; ++k) EXPECT_EQ(r.masks[i].box[k], box[k]) << "mask " << i << " box " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Tiny, PickCase, ::testing::ValuesIn(kCases), [](const auto& param_info) {
  return param_info.param.image + "_case" + std::to_string(param_info.param.k);
});

// The refinement case's mask input is case 1's best low-res mask: ours gives it, within the tensor tolerance.
TEST(Pick, RefinementInputIsCase1BestLogits) {
  const TensorFile c5 = open_fixture("tiny_pvs/test_image.pvs_case5.safetensors");
  const TensorFile c1 = open_fixture("tiny_pvs/test_image.pvs_case1.safetensors");
  ImageState state(pvs_model());
  const RgbImage img = image("test_image");
  state.set_image(img.view());
  PickParams params = pick_default_params();
  params.n_threads = 2;
  const PickResult r1 = pick(state, fixture_prompt(c1, true), params);
  const std::vector<float>& best = r1.masks[static_cast<size_t>(r1.best())].low_res_logits;
  Tensor ours = Tensor::empty({1, 72, 72});
  std::copy(best.begin(), best.end(), ours.f32());
  EXPECT_TRUE(close_rel(ours, c5.get("in.mask_input")));
  // Feeding ours back gives the fixture's refined result.
  PickPrompt p = fixture_prompt(c5, false);
  p.mask_logits = best;
  const PickResult r5 = pick(state, p, params);
  EXPECT_DOUBLE_EQ(r5.timings.neck_ms, 0.0);  // the SAM2 neck ran once per image
  ASSERT_EQ(r5.masks.size(), 1u);
  EXPECT_NEAR(r5.masks[0].iou, c5.get("out.iou_predictions").f32()[0], kIouTol);
}

// Multimask by default for a single click only; embeddings with the features up front give the same result.
TEST(Pick, DefaultsUpFrontFeaturesAndSavedEmbedding) {
  const TensorFile c1 = open_fixture("tiny_pvs/test_image.pvs_case1.safetensors");
  const RgbImage img = image("test_image");
  ImageState lazy(pvs_model());
  lazy.set_image(img.view());
  PickPrompt p;
  p.points.push_back({470, 420, true});
  const PickResult a = pick(lazy, p);
  EXPECT_TRUE(a.multimask);
  EXPECT_EQ(a.masks.size(), 3u);
  PickPrompt two = p;
  two.points.push_back({250, 150, false});
  EXPECT_FALSE(pick(lazy, two).multimask);

  EncodeParams ep = encode_default_params();
  ep.pick_features = true;
  const ImageEmbedding emb = pvs_model()->encode(img.view(), ep);
  EXPECT_GT(emb.timings().pick_neck_ms, 0.0);
  TempDir dir;
  const std::string path = dir.file("emb.safetensors");
  emb.save(path);
  for (const ImageEmbedding& e : {emb, pvs_model()->load_embedding(path)}) {
    ImageState st(pvs_model());
    st.set_embedding(e);
    const PickResult b = pick(st, p);
    EXPECT_EQ(b.timings.neck_ms, 0.0);
    ASSERT_EQ(b.masks.size(), a.masks.size());
    for (size_t i = 0; i < a.masks.size(); ++i) {
      EXPECT_EQ(b.masks[i].iou, a.masks[i].iou);
      EXPECT_TRUE(b.masks[i].mask == a.masks[i].mask);
    }
  }
  // An embedding saved without the features (and without the trunk, which is never saved) cannot be picked on.
  const std::string plain = dir.file("plain.safetensors");
  lazy.embedding().save(plain);
  ImageState st(pvs_model());
  st.set_embedding(pvs_model()->load_embedding(plain));
  EXPECT_THROW(pick(st, p), Error);
}

TEST(Pick, BadPromptsAreClearErrors) {
  ImageState state(pvs_model());
  const RgbImage img = image("groceries");  // 800 x 534
  state.set_image(img.view());
  auto message = [&](const PickPrompt& p) {
    try {
      pick(state, p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  PickPrompt empty;
  EXPECT_NE(message(empty).find("empty"), std::string::npos);
  PickPrompt outside;
  outside.points.push_back({1100, 150, true});
  EXPECT_NE(message(outside).find("outside"), std::string::npos) << message(outside);
  PickPrompt nan;
  nan.points.push_back({NAN, 1, true});
  EXPECT_NE(message(nan).find("not finite"), std::string::npos);
  PickPrompt degenerate;
  degenerate.has_box = true;
  degenerate.box[0] = 50;
  degenerate.box[1] = 50;
  degenerate.box[2] = 40;
  degenerate.box[3] = 60;
  EXPECT_NE(message(degenerate).find("degenerate"), std::string::npos);
  PickPrompt wrong_logits;
  wrong_logits.points.push_back({10, 10, true});
  wrong_logits.mask_logits.assign(100, 0.0f);
  EXPECT_NE(message(wrong_logits).find("mask logits"), std::string::npos);
  // The last row / column and a box partly outside are fine.
  PickPrompt edge;
  edge.points.push_back({799, 533, true});
  edge.has_box = true;
  edge.box[0] = 700;
  edge.box[1] = 400;
  edge.box[2] = 900;
  edge.box[3] = 600;
  EXPECT_NO_THROW(pick(state, edge));
}

TEST(Pick, ModelWithoutInteractiveWeights) {
  ModelParams p = model_default_params();
  p.dtype = "f32";  // parity with the fixtures
  p.config_path = golden_path("tiny/config.json");
  auto m = Model::load(golden_path("tiny/sam3_random.pt"), p);
  EXPECT_FALSE(m->supports_pick());
  EXPECT_TRUE(pvs_model()->supports_pick());
  ImageState state(m);
  const RgbImage img = image("groceries");
  state.set_image(img.view());
  PickPrompt pp;
  pp.points.push_back({10, 10, true});
  try {
    pick(state, pp);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no interactive weights"), std::string::npos) << e.what();
  }
  // Concepts still segment on it.
  Prompt c;
  c.text = "dog";
  EXPECT_NO_THROW(segment(state, c));
}

}  // namespace

namespace {

// A random checkpoint with the interactive head (as `sam3 make-random-checkpoint` writes it) loads strictly and
// picks; one whose head lacks a tensor is rejected naming it.
TEST(Pick, RandomCheckpointWithInteractiveHead) {
  const Config cfg = load_config_file(golden_path("tiny_pvs/config.json"));
  TempDir dir;
  RandomCheckpointOptions opt;
  opt.interactive = true;
  opt.n_threads = 2;
  const std::string path = dir.file("pvs.pt");
  write_random_checkpoint(path, cfg, opt);
  const WeightFile wf = load_weight_file(path);
  EXPECT_TRUE(interactive_weight_problems(cfg, wf.interactive).empty());
  ModelParams p = model_default_params();
  p.dtype = "f32";  // parity with the fixtures
  p.config_path = golden_path("tiny_pvs/config.json");
  auto m = Model::load(path, p);
  ASSERT_TRUE(m->supports_pick());
  ImageState state(m);
  const RgbImage img = image("groceries");
  state.set_image(img.view());
  PickPrompt pp;
  pp.points.push_back({400, 300, true});
  const PickResult r = pick(state, pp);
  ASSERT_EQ(r.masks.size(), 3u);
  for (const PickMask& k : r.masks) EXPECT_TRUE(k.iou >= 0 && k.iou <= 1);

  // The same file without one mask-decoder tensor: a clear error at load.
  std::map<std::string, Tensor> partial;
  for (const auto& [k, t] : wf.tensors) partial["detector." + k] = t;
  for (const auto& [k, t] : wf.interactive)
    if (k != "tracker.sam_mask_decoder.iou_token.weight")
      partial[k.rfind("tracker.", 0) == 0 ? k : "detector." + k] = t;
  const std::string bad = dir.file("bad.pt");
  write_torch_checkpoint(bad, partial);
  try {
    Model::load(bad, p);
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing: tracker.sam_mask_decoder.iou_token.weight"), std::string::npos)
        << e.what();
  }
}

}  // namespace

namespace {

// The interactive head on the reference kernels (Backend::Ref) agrees with the optimised ones: every op it uses has
// its reference twin. Same inputs (a synthetic trunk output), features and decoder outputs within 1e-5 of scale.
TEST(Pick, ReferenceBackendAgrees) {
  const TinyPvsHead t;
  const Sam1TaskPredictor& head = t.head;
  const Tensor trunk = t.trunk(0.37f, 9973);
  Tensor mask = Tensor::empty({1, 72, 72});
  for (int64_t i = 0; i < mask.numel(); ++i) mask.f32()[i] = 4.0f * std::cos(0.11f * static_cast<float>(i));
  const std::vector<SamPoint> pts = {{200, 300, 2}, {700, 800, 3}, {450, 500, 1}, {100, 90, 0}};
  RunContext cpu{2}, ref{1};
  ref.backend = Backend::Ref;
  const PvsFeatures fc = head.features(trunk, cpu), fr = head.features(trunk, ref);
  EXPECT_TRUE(close_rel(fc.feat_s0, fr.feat_s0));
  EXPECT_TRUE(close_rel(fc.image_embed, fr.image_embed));
  for (bool multimask : {true, false}) {
    expect_decoder_close(head.predict(fc, pts, &mask, multimask, cpu), head.predict(fr, pts, &mask, multimask, ref),
                         multimask ? "multimask" : "single mask");
  }
}

}  // namespace

namespace {

// A mask-only prompt (no clicks, no box): upstream's sparse prompt is then empty, without the padding point.
TEST(Pick, MaskOnlyPromptHasNoSparseTokens) {
  const TensorFile c5 = open_fixture("tiny_pvs/test_image.pvs_case5.safetensors");
  ImageState state(pvs_model());
  const RgbImage img = image("test_image");
  state.set_image(img.view());
  PickPrompt p;
  const Tensor& m = c5.get("in.mask_input");
  p.mask_logits.assign(m.f32(), m.f32() + m.numel());
  TempDir dir;
  PickParams params = pick_default_params();
  params.dump_dir = dir.path();
  const PickResult r = pick(state, p, params);
  EXPECT_FALSE(r.multimask);
  ASSERT_EQ(r.masks.size(), 1u);
  const TensorFile got = read_safetensors(dir.file("pick.safetensors"));
  EXPECT_EQ(got.get("dec.sparse").shape(), (Shape{1, 0, 64}));
}

}  // namespace

namespace {

// The per-image click cache (Sam1TaskPredictor::click_tokens: the first block's projections computed once) gives
// what the uncached path gives, and an ImageState drops it when the image changes.
TEST(Pick, ClickCacheMatchesUncachedAndFollowsTheImage) {
  const TinyPvsHead t;
  const Sam1TaskPredictor& head = t.head;
  const Tensor trunk = t.trunk(0.29f, 7919);
  const RunContext cpu{2};
  const PvsFeatures f = head.features(trunk, cpu);
  const SamImageTokens click = head.click_tokens(f, cpu);
  EXPECT_GT(click.bytes(), click.src.nbytes());
  for (bool multimask : {true, false}) {
    const std::vector<SamPoint> pts = {{450, 500, 1}};
    expect_decoder_close(head.predict(f, pts, nullptr, multimask, cpu, &click),
                         head.predict(f, pts, nullptr, multimask, cpu), multimask ? "multimask" : "single mask");
  }

  // Through the API: a state that picked on one image, then got another, picks as a fresh state on the second.
  const RgbImage img1 = image("test_image"), img2 = image("groceries");
  PickPrompt p;
  p.points.push_back({300, 200, true});
  ImageState reused(pvs_model());
  reused.set_image(img1.view());
  const size_t before = reused.pick_bytes();
  (void)pick(reused, p);
  EXPECT_GT(reused.pick_bytes(), before);
  reused.set_image(img2.view());
  EXPECT_EQ(reused.pick_bytes(), 0u);
  const PickResult r = pick(reused, p);
  ImageState fresh(pvs_model());
  fresh.set_image(img2.view());
  const PickResult want = pick(fresh, p);
  ASSERT_EQ(r.masks.size(), want.masks.size());
  for (size_t i = 0; i < r.masks.size(); ++i) {
    EXPECT_EQ(r.masks[i].iou, want.masks[i].iou);
    EXPECT_EQ(r.masks[i].low_res_logits, want.masks[i].low_res_logits);
  }
}

}  // namespace

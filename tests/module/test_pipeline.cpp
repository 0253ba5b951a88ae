// End-to-end module test of the public API: for all 10 fixture cases, decode golden/images/<img>.jpg, encode it with
// the tiny model (golden/tiny/sam3_random.pt + config.json), run the case's prompt exactly as the manifest's calls
// describe it (set_text_prompt / add_geometric_prompt with normalised cxcywh boxes / set_confidence_threshold), and
// compare the final result with final.*; the SAM3_DUMP-style dump of the same run is compared with the case's
// intermediates. Also: several prompts in one call = the same prompts one by one, re-thresholding = a fresh run,
// the JSON result round trip, a config and image not in the fixtures, and bad prompts.
// Bounds (docs/numerics.md, "Pipeline (end to end)"): the same kept queries in the same order, scores within 1e-5,
// boxes within 0.01 px, masks differing from final.masks_packbits in at most kMaxMaskPixelDiff pixels.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "core/error.h"
#include "fixture.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "io/image_encode.h"
#include "io/result_json.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/random_checkpoint.h"
#include "sam3/sam3.h"
#include "tiny_fixture.h"

using namespace sam3;
using namespace sam3::test;

namespace {

constexpr double kScoreTol = 1e-5;  // scores / probs (golden README: reference noise ~1e-6 relative)
constexpr double kBoxTolPx = 0.01;  // pixel boxes
// Mask pixels allowed to differ per kept mask. The reference's own noise is <= 1 pixel (golden README); here the
// whole chain runs from the JPEG, so the mask logits carry the image encoder's error too (~1e-5 of their scale):
// only pixels whose up-sampled logit lies within that of 0 can flip. Measured max: see docs/numerics.md.
constexpr int64_t kMaxMaskPixelDiff = 4;
// Intermediates of the run vs the case file: |ours - ref| <= kAtolScale·max|ref| + kAtolFloor + kRtol·|ref|. The
// detector-head bound (detector_test_util.h) widened by the image encoder's error, which these tensors inherit
// (image-encoder fixture outputs match to ~2e-6 of scale, docs/numerics.md).
constexpr double kAtolScale = 2e-5, kAtolFloor = 1e-5, kRtol = 1e-4;

const std::string kModel = "tiny/sam3_random.pt";
const std::string kConfig = "tiny/config.json";

std::shared_ptr<const Model> tiny() {
  static std::shared_ptr<const Model> m = [] {
    ModelParams p = model_default_params();
    p.dtype = "f32";  // parity with the fixtures
    p.config_path = golden_path(kConfig);
    return Model::load(golden_path(kModel), p);
  }();
  return m;
}

struct FixtureCase {
  std::string name;   // "test_image.case2"
  std::string image;  // "test_image.jpg"
  Prompt prompt;
  float threshold = 0.5f;
};

// Replays the manifest's calls: set_text_prompt('t'), add_geometric_prompt([cx, cy, w, h], True|False),
// set_confidence_threshold(t). Box numbers are parsed as Python does (double), then rounded to float32 as
// torch.tensor(box, dtype=float32) does.
FixtureCase load_case(const std::string& name) {
  std::ifstream f(golden_path("tiny/manifest.json"));
  const nlohmann::json m = nlohmann::json::parse(f);
  const nlohmann::json& e = m.at("files").at(name + ".safetensors");
  FixtureCase c;
  c.name = name;
  c.image = e.at("image").get<std::string>();
  c.threshold = e.at("threshold").get<float>();
  const std::regex text_re(R"(^set_text_prompt\('(.*)'\)$)");
  const std::regex box_re(R"(^add_geometric_prompt\(\[([^\]]*)\], (True|False)\)$)");
  const std::regex thr_re(R"(^set_confidence_threshold\((.*)\)$)");
  for (const auto& call : e.at("calls")) {
    const std::string s = call.get<std::string>();
    std::smatch mt;
    if (std::regex_match(s, mt, text_re)) {
      c.prompt.text = mt[1];
    } else if (std::regex_match(s, mt, box_re)) {
      double v[4];
      if (std::sscanf(mt[1].str().c_str(), "%lf, %lf, %lf, %lf", &v[0], &v[1], &v[2], &v[3]) != 4)
        throw Error("bad box in " + s);
      PromptBox b;
      b.cx = static_cast<float>(v[0]);
      b.cy = static_cast<float>(v[1]);
      b.w = static_cast<float>(v[2]);
      b.h = static_cast<float>(v[3]);
      b.positive = mt[2] == "True";
      c.prompt.boxes.push_back(b);
    } else if (std::regex_match(s, mt, thr_re)) {
      EXPECT_FLOAT_EQ(std::stof(mt[1]), c.threshold) << name;
    } else {
      throw Error("unknown call in the manifest: " + s);
    }
  }
  return c;
}

ImageState state_for(const std::shared_ptr<const Model>& model, const Image& img, const std::string& dump_dir = "") {
  ImageState st(model);
  EncodeParams ep = encode_default_params();
  ep.n_threads = 2;
  ep.dump_dir = dump_dir;
  st.set_image(ImageView{img.pixels.data(), static_cast<int>(img.width), static_cast<int>(img.height)}, ep);
  return st;
}

SegmentParams params_at(float threshold, const std::string& dump_dir = "") {
  SegmentParams p = segment_default_params();
  p.n_threads = 2;
  p.threshold = threshold;
  p.dump_dir = dump_dir;
  return p;
}

// final.masks_packbits row n -> 0/1 bytes (numpy packbits, big bit order).
std::vector<uint8_t> fixture_mask(const Tensor& packed, int64_t n, int64_t pixels) {
  const uint8_t* p = packed.data<uint8_t>() + n * packed.size(1);
  std::vector<uint8_t> out(static_cast<size_t>(pixels));
  for (int64_t i = 0; i < pixels; ++i) out[static_cast<size_t>(i)] = (p[i / 8] >> (7 - i % 8)) & 1;
  return out;
}

int64_t count_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int64_t d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d += (a[i] != 0) != (b[i] != 0);
  return d;
}

// Results of two runs that must be identical (same arithmetic).
void expect_same(const PromptResult& a, const PromptResult& b, const std::string& what) {
  ASSERT_EQ(a.instances.size(), b.instances.size()) << what;
  EXPECT_EQ(a.probs, b.probs) << what;
  for (size_t n = 0; n < a.instances.size(); ++n) {
    EXPECT_EQ(a.instances[n].query, b.instances[n].query) << what;
    EXPECT_EQ(a.instances[n].score, b.instances[n].score) << what;
    for (int k = 0; k < 4; ++k) EXPECT_EQ(a.instances[n].box[k], b.instances[n].box[k]) << what;
    EXPECT_TRUE(a.instances[n].mask == b.instances[n].mask) << what << " mask " << n;
  }
  EXPECT_TRUE(a.semantic == b.semantic) << what << " semantic";
}

// ---- the ten fixture cases, from the JPEG through the public API ------------------------------------------------

class PipelineCase : public ::testing::TestWithParam<std::string> {};

TEST_P(PipelineCase, ImageFileToFinal) {
  const FixtureCase fc = load_case(GetParam());
  const Image img = decode_image_file(golden_path("images/" + fc.image));
  TempDir dump;
  ImageState st = state_for(tiny(), img);
  const PromptResult r = segment(st, fc.prompt, params_at(fc.threshold, dump.path()));
  dump.file("prompt0.safetensors");
  TensorFile c = open_fixture("tiny/" + fc.name + ".safetensors");

  // Final result.
  ASSERT_EQ(r.image_width, img.width);
  ASSERT_EQ(r.image_height, img.height);
  EXPECT_EQ(r.text_used, fc.prompt.text.empty() ? "visual" : fc.prompt.text);
  const Tensor& keep = c.get("final.keep_idx");
  ASSERT_EQ(static_cast<int64_t>(r.instances.size()), keep.numel()) << fc.name << ": number of kept instances";
  const Tensor& probs = c.get("final.probs_all");
  ASSERT_EQ(static_cast<int64_t>(r.probs.size()), probs.numel());
  double max_dp = 0, max_db = 0;
  for (size_t q = 0; q < r.probs.size(); ++q)
    max_dp = std::max(max_dp, std::fabs(static_cast<double>(r.probs[q]) - probs.f32()[q]));
  EXPECT_LE(max_dp, kScoreTol) << fc.name << ": probs of all queries";
  const int64_t HW = img.width * img.height;
  int64_t worst = 0;
  for (int64_t n = 0; n < keep.numel(); ++n) {
    const Instance& in = r.instances[static_cast<size_t>(n)];
    EXPECT_EQ(in.query, keep.data<int64_t>()[n]) << fc.name << ": kept query " << n;
    EXPECT_NEAR(in.score, c.get("final.scores").f32()[n], kScoreTol) << fc.name << ": score " << n;
    for (int k = 0; k < 4; ++k) {
      const double d = std::fabs(static_cast<double>(in.box[k]) - c.get("final.boxes_xyxy").f32()[n * 4 + k]);
      max_db = std::max(max_db, d);
      EXPECT_LE(d, kBoxTolPx) << fc.name << ": box " << n << " coordinate " << k;
    }
    const std::vector<uint8_t> ref = fixture_mask(c.get("final.masks_packbits"), n, HW);
    const int64_t diff = count_diff(in.mask.to_bitmap(), ref);
    EXPECT_LE(diff, kMaxMaskPixelDiff) << fc.name << ": mask " << n;
    EXPECT_LE(std::llabs(in.mask.area() - c.get("final.mask_pixel_counts").data<int64_t>()[n]), kMaxMaskPixelDiff);
    worst = std::max(worst, diff);
  }

  // The JSON form decodes back to the same masks.
  const Json j = nlohmann::ordered_json::parse(prompt_result_to_json(r).dump());
  ASSERT_EQ(j["instances"].size(), r.instances.size());
  for (size_t n = 0; n < r.instances.size(); ++n) {
    const Mask m = mask_from_json(j["instances"][n]["mask"]);
    EXPECT_EQ(m.width, img.width);
    EXPECT_EQ(m.height, img.height);
    EXPECT_TRUE(m == r.instances[n].mask) << "JSON round trip, mask " << n;
    EXPECT_EQ(j["instances"][n]["score"].get<float>(), r.instances[n].score);
    EXPECT_EQ(j["instances"][n]["area"].get<int64_t>(), r.instances[n].mask.area());
  }

  // The dump of this run against the case's intermediates (every tensor the case file and the dump share).
  TensorFile d = read_safetensors(dump.path() + "/prompt0.safetensors");
  int compared = 0;
  double worst_ratio = 0;
  std::string worst_name;
  for (const auto& [name, ref_t] : c.tensors) {
    if (!d.has(name) || name.rfind("final.", 0) == 0) continue;
    const Tensor& ref = ref_t;
    const Tensor& ours = d.get(name);
    ASSERT_EQ(ours.numel(), ref.numel()) << name;
    const CompareStats s = compare(ours, ref, 0, 0);
    const double ratio = s.ref_scale > 0 ? s.max_abs / s.ref_scale : s.max_abs;
    if (ratio > worst_ratio) worst_ratio = ratio, worst_name = name;
    EXPECT_TRUE(tensors_close(ours, ref, kAtolScale * s.ref_scale + kAtolFloor, kRtol)) << fc.name << ": " << name;
    ++compared;
  }
  EXPECT_GE(compared, 30) << "the dump should hold the case's intermediates";
  EXPECT_TRUE(tensors_close(d.get("final.keep_idx"), c.get("final.keep_idx"), 0, 0));
  EXPECT_TRUE(tensors_close(d.get("final.mask_pixel_counts"), c.get("final.mask_pixel_counts"),
                            static_cast<double>(kMaxMaskPixelDiff), 0));
  std::printf("%s: %zu kept, max |dprob| %.2g, max |dbox| %.3g px, worst mask diff %lld px, %d dumped tensors "
              "compared (worst max_abs/scale %.2g: %s)\n",
              fc.name.c_str(), r.instances.size(), max_dp, max_db, static_cast<long long>(worst), compared,
              worst_ratio, worst_name.c_str());
}

INSTANTIATE_TEST_SUITE_P(Tiny, PipelineCase, ::testing::ValuesIn(fixture_cases()), case_param_name);

// ---- one call with several prompts = the prompts one by one; re-thresholding = a fresh run ------------------------

TEST(Pipeline, SeveralPromptsInOneCall) {
  const Image img = decode_image_file(golden_path("images/groceries.jpg"));
  std::vector<Prompt> prompts;
  for (int k : {1, 2, 3, 4, 5}) prompts.push_back(load_case("groceries.case" + std::to_string(k)).prompt);
  prompts.push_back(Prompt{"apple", {}});
  prompts.push_back(prompts[0]);  // the same text again (cached)
  const SegmentParams p = params_at(0.3f);
  ImageState together = state_for(tiny(), img);
  const SegmentResult all = segment(together, prompts, p);
  ASSERT_EQ(all.prompts.size(), prompts.size());
  EXPECT_TRUE(all.prompts.back().text_cached);
  ImageState alone = state_for(tiny(), img);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const PromptResult one = segment(alone, prompts[i], p);
    expect_same(all.prompts[i], one, "prompt " + std::to_string(i));
  }
}

TEST(Pipeline, RethresholdMatchesFreshRun) {
  const FixtureCase fc = load_case("test_image.case4");
  const Image img = decode_image_file(golden_path("images/" + fc.image));
  ImageState st = state_for(tiny(), img);
  const PromptResult base = segment(st, fc.prompt, params_at(0.9f));
  for (float t : {fc.threshold, 0.2f, 0.0f, 1.0f}) {
    const PromptResult fresh = segment(st, fc.prompt, params_at(t));
    const PromptResult re = rethreshold(base, t, 2);
    EXPECT_EQ(re.threshold, t);
    expect_same(re, fresh, "threshold " + std::to_string(t));
  }
  EXPECT_EQ(rethreshold(base, 0.0f, 2).instances.size(), base.probs.size());  // every query (probs > 0)
  EXPECT_THROW(rethreshold(base, 1.5f), Error);
  EXPECT_THROW(rethreshold(PromptResult{}, 0.5f), Error);
}

// The per-image cache follows the image: a state re-used for another image gives that image's fresh result.
TEST(Pipeline, CacheFollowsTheImage) {
  const Image a = decode_image_file(golden_path("images/groceries.jpg"));
  const Image b = decode_image_file(golden_path("images/test_image.jpg"));
  const Prompt p{"paper bag", {}};
  ImageState st = state_for(tiny(), a);
  segment(st, p, params_at(0.3f));
  ImageState fresh = state_for(tiny(), b);
  EncodeParams ep = encode_default_params();
  ep.n_threads = 2;
  st.set_image(ImageView{b.pixels.data(), static_cast<int>(b.width), static_cast<int>(b.height)}, ep);
  expect_same(segment(st, p, params_at(0.3f)), segment(fresh, p, params_at(0.3f)), "state re-used for image b");
  st.set_embedding(state_for(tiny(), a).embedding());
  ImageState fresh_a = state_for(tiny(), a);
  expect_same(segment(st, p, params_at(0.3f)), segment(fresh_a, p, params_at(0.3f)), "back to image a");
}

// The state's scratch: kept after a prompt (reused by the next), freed by release_scratch(), re-grown on demand;
// the results are the same whichever way the memory came. The mask logits of a dropped result are kept too and
// used again by the next prompt (BufferRecycler).
TEST(Pipeline, ScratchKeptReleasedAndRegrown) {
  const Image img = decode_image_file(golden_path("images/groceries.jpg"));
  ImageState st(tiny());
  st.set_embedding(state_for(tiny(), img).embedding());  // no encode: the scratch is the prompts' alone
  EXPECT_EQ(st.scratch_bytes(), 0u);
  const Prompt text{"paper bag", {}}, boxed{"paper bag", {PromptBox{0.5f, 0.5f, 0.2f, 0.3f, true}}};
  const PromptResult first = segment(st, boxed, params_at(0.3f));  // kept alive: its mask logits stay with it
  const size_t kept = st.scratch_bytes();
  EXPECT_GT(kept, 0u);
  expect_same(segment(st, boxed, params_at(0.3f)), first, "second run on the kept scratch");
  const size_t steady = st.scratch_bytes();  // + the dropped second result's mask logits
  EXPECT_GT(steady, kept);
  expect_same(segment(st, boxed, params_at(0.3f)), first, "third run, on the recycled mask logits");
  EXPECT_EQ(st.scratch_bytes(), steady);  // the same workload fits what was kept (a new block would add to it)
  st.release_scratch();
  EXPECT_EQ(st.scratch_bytes(), 0u);
  segment(st, text, params_at(0.3f));
  expect_same(segment(st, boxed, params_at(0.3f)), first, "after release_scratch");
}

// An embedding saved to disk and loaded back gives the same result as the in-memory one.
TEST(Pipeline, SavedEmbedding) {
  const FixtureCase fc = load_case("groceries.case2");
  const Image img = decode_image_file(golden_path("images/" + fc.image));
  ImageState st = state_for(tiny(), img);
  const PromptResult a = segment(st, fc.prompt, params_at(fc.threshold));
  TempDir tmp;
  const std::string path = tmp.file("emb.safetensors");
  st.embedding().save(path);
  ImageState st2(tiny());
  st2.set_embedding(tiny()->load_embedding(path));
  expect_same(segment(st2, fc.prompt, params_at(fc.threshold)), a, "loaded embedding");
}

// ---- pixel boxes -> normalised cxcywh as a user of the official processor computes it ----------------------------

TEST(Pipeline, BoxFromPixels) {
  // box_xyxy_to_cxcywh then / [W, H, W, H], float32: [100, 50, 300, 250] on 800x534.
  const PromptBox b = PromptBox::from_xyxy(100.f, 50.f, 300.f, 250.f, 800, 534, false);
  EXPECT_EQ(b.cx, 200.0f / 800.0f);
  EXPECT_EQ(b.cy, 150.0f / 534.0f);
  EXPECT_EQ(b.w, 200.0f / 800.0f);
  EXPECT_EQ(b.h, 200.0f / 534.0f);
  EXPECT_FALSE(b.positive);
  float xyxy[4];
  b.to_xyxy(800, 534, xyxy);
  EXPECT_NEAR(xyxy[0], 100.f, 1e-3);
  EXPECT_NEAR(xyxy[3], 250.f, 1e-3);
  EXPECT_THROW(PromptBox::from_xyxy(0, 0, 1, 1, 0, 10), Error);
}

// ---- bad input ---------------------------------------------------------------------------------------------------

TEST(Pipeline, BadPrompts) {
  ImageState empty(tiny());
  EXPECT_THROW(segment(empty, Prompt{"dog", {}}), Error);  // no image
  const Image img = decode_image_file(golden_path("images/groceries.jpg"));
  ImageState st = state_for(tiny(), img);
  EXPECT_THROW(segment(st, Prompt{}), Error);
  EXPECT_THROW(segment(st, Prompt{"  \t", {}}), Error);
  EXPECT_THROW(segment(st, std::vector<Prompt>{}), Error);
  PromptBox nan_box;
  nan_box.cx = std::nanf("");
  EXPECT_THROW(segment(st, Prompt{"dog", {nan_box}}), Error);
  SegmentParams p = segment_default_params();
  p.threshold = -0.5f;
  EXPECT_THROW(segment(st, Prompt{"dog", {}}, p), Error);
  try {
    segment(st, std::vector<Prompt>{Prompt{"dog", {}}, Prompt{}});
    FAIL() << "an empty second prompt must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("prompt 1"), std::string::npos) << e.what();
  }
}

// ---- a config and an image that are not in the fixtures ----------------------------------------------------------

TEST(Pipeline, OtherConfigAndOddSizedPng) {
  TempDir tmp;
  // The project's small random-model config (assets/), not the fixtures' tiny one.
  const Config cfg = load_config_file(std::string(SAM3_SOURCE_DIR) + "/assets/sam3_small_random.json");
  const std::string ckpt = tmp.file("small.pt");
  RandomCheckpointOptions ro;
  ro.seed = 7;
  ro.n_threads = 2;
  write_random_checkpoint(ckpt, cfg, ro);
  ModelParams mp = model_default_params();
  mp.dtype = "f32";  // parity with the fixtures
  mp.config_path = std::string(SAM3_SOURCE_DIR) + "/assets/sam3_small_random.json";
  const auto model = Model::load(ckpt, mp);

  // A 97x61 PNG with a gradient and a bright square.
  Image img = Image::allocate(61, 97);
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = 0; x < img.width; ++x) {
      uint8_t* p = img.row(y) + x * 3;
      const bool sq = x > 20 && x < 50 && y > 10 && y < 40;
      p[0] = sq ? 250 : static_cast<uint8_t>(x * 2);
      p[1] = sq ? 240 : static_cast<uint8_t>(y * 3);
      p[2] = static_cast<uint8_t>((x + y) % 256);
    }
  const std::string png = tmp.file("odd.png");
  write_png_file(png, img);
  const Image back = decode_image_file(png);
  ImageState st = state_for(model, back);
  std::vector<Prompt> prompts{Prompt{"a bright square", {}},
                              Prompt{"", {PromptBox::from_xyxy(20, 10, 50, 40, 97, 61)}},
                              Prompt{"square", {PromptBox::from_xyxy(20, 10, 50, 40, 97, 61),
                                                PromptBox::from_xyxy(-10, 30, 20, 70, 97, 61, false)}}};
  const SegmentResult r = segment(st, prompts, params_at(0.0f));
  ASSERT_EQ(r.prompts.size(), 3u);
  EXPECT_EQ(r.image_width, 97);
  EXPECT_EQ(r.image_height, 61);
  EXPECT_EQ(r.prompts[1].text_used, "visual");
  for (const PromptResult& p : r.prompts) {
    EXPECT_EQ(static_cast<int>(p.probs.size()), cfg.decoder.num_queries);
    EXPECT_EQ(p.instances.size(), p.probs.size());  // threshold 0: every query
    for (const Instance& in : p.instances) {
      EXPECT_TRUE(std::isfinite(in.score) && in.score >= 0 && in.score <= 1);
      for (float v : in.box) EXPECT_TRUE(std::isfinite(v));
      EXPECT_EQ(in.mask.width, 97);
      EXPECT_EQ(in.mask.height, 61);
      EXPECT_EQ(in.mask.to_bitmap().size(), 97u * 61u);
    }
    EXPECT_EQ(p.semantic.to_bitmap().size(), 97u * 61u);
    EXPECT_GT(p.timings.fusion_ms, 0);
  }
  // The embedding of another config is refused by the tiny model's state.
  ImageState other(tiny());
  EXPECT_THROW(other.set_embedding(st.embedding()), Error);
}

}  // namespace

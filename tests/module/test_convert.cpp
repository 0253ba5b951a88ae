// Module test: converted weights (`sam3 convert`, api/convert.h, docs/weights.md "Converted files") on the tiny
// fixture checkpoint, through the public API.
//   * A bf16 / int8 file gives BIT-IDENTICAL embeddings, scores, boxes and masks to converting sam3_random.pt at load
//     with the same --dtype (the same rounding, done once at conversion instead of at load).
//   * An f16 file run in f32 gives bit-identical results to the f32 checkpoint whose values are rounded to f16 (its
//     "own expectation": f16 storage computes exactly the f32 values it holds); likewise bf16 and int8 from it.
//   * The interactive head (tiny_pvs) is carried over: picks are identical.
//   * The precisions a file cannot give, a --config that disagrees with the stored one, and hostile files (bad or
//     missing scales, -128, unknown versions, truncated files, ...) are clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "api/convert.h"
#include "api/internal.h"
#include "core/error.h"
#include "core/ops.h"
#include "fixture.h"
#include "io/safetensors.h"
#include "io/torch_writer.h"
#include "sam3/sam3.h"
#include "tiny_fixture.h"

using namespace sam3;
using namespace sam3::test;

namespace {

std::string tiny_pt() { return golden_path("tiny/sam3_random.pt"); }
std::string tiny_cfg() { return golden_path("tiny/config.json"); }

std::shared_ptr<const Model> load(const std::string& path, const std::string& dtype,
                                  const std::string& config = tiny_cfg(), bool validate = true) {
  ModelParams p = model_default_params();
  p.config_path = config;
  p.dtype = dtype;
  p.validate_weights = validate;
  return Model::load(path, p);
}

std::string convert(TempDir& dir, const std::string& dtype, const std::string& in = tiny_pt(),
                    const std::string& config = tiny_cfg()) {
  const std::string out = dir.file("tiny_" + dtype + ".safetensors");
  ConvertOptions o;
  o.dtype = dtype;
  o.config_path = config;
  convert_weights(in, out, o);
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Runs both models on both fixture images (4 prompts: 3 texts, 1 text with a positive and a negative box) and
// expects every number to be the same bits. Returns whether the embeddings of `a` and `c` (a third model, may be
// null) differ anywhere, so that a test can show its comparison is not vacuous.
bool expect_identical(const std::shared_ptr<const Model>& a, const std::shared_ptr<const Model>& b,
                      const std::shared_ptr<const Model>& c = nullptr, bool both_images = true) {
  bool c_differs = false;
  for (const char* img : {"images/test_image.jpg", "images/groceries.jpg"}) {
    if (!both_images && c_differs) break;
    SCOPED_TRACE(img);
    ImageState sa(a), sb(b);
    sa.set_embedding(a->encode_file(golden_path(img)));
    sb.set_embedding(b->encode_file(golden_path(img)));
    const ImageEmbedding &ea = sa.embedding(), &eb = sb.embedding();
    EXPECT_EQ(ea.num_levels(), eb.num_levels());
    for (int l = 0; l < ea.num_levels(); ++l)
      EXPECT_TRUE(same_bits(ea.impl().features.fpn[l], eb.impl().features.fpn[l])) << "FPN level " << l;
    if (c) {
      const ImageEmbedding ec = c->encode_file(golden_path(img));
      for (int l = 0; l < ea.num_levels(); ++l)
        c_differs = c_differs || !same_bits(ea.impl().features.fpn[l], ec.impl().features.fpn[l]);
    }
    const int w = ea.image_width(), h = ea.image_height();
    std::vector<Prompt> ps;
    for (const char* t : {"person", "yellow school bus", "red apple"}) ps.push_back(Prompt{t, {}});
    Prompt boxed{"banana", {}};
    boxed.boxes.push_back(PromptBox::from_user_xyxy(0.1f * w, 0.15f * h, 0.5f * w, 0.6f * h, w, h, true));
    boxed.boxes.push_back(PromptBox::from_user_xyxy(0.55f * w, 0.2f * h, 0.8f * w, 0.9f * h, w, h, false));
    ps.push_back(boxed);
    SegmentParams sp = segment_default_params();
    sp.threshold = 0.05f;
    const SegmentResult ra = segment(sa, ps, sp), rb = segment(sb, ps, sp);
    EXPECT_EQ(ra.prompts.size(), rb.prompts.size());
    if (ra.prompts.size() != rb.prompts.size()) return c_differs;
    int instances = 0;
    for (size_t p = 0; p < ra.prompts.size(); ++p) {
      SCOPED_TRACE("prompt " + std::to_string(p));
      const PromptResult &pa = ra.prompts[p], &pb = rb.prompts[p];
      const DetectorOutputs &oa = pa.outputs->raw, &ob = pb.outputs->raw;
      EXPECT_TRUE(same_bits(oa.pred_logits, ob.pred_logits));
      EXPECT_TRUE(same_bits(oa.pred_boxes, ob.pred_boxes));
      EXPECT_TRUE(same_bits(oa.pred_masks, ob.pred_masks));
      EXPECT_TRUE(same_bits(oa.semantic_seg, ob.semantic_seg));
      EXPECT_EQ(std::memcmp(&oa.presence_logit, &ob.presence_logit, sizeof(float)), 0);
      EXPECT_EQ(pa.instances.size(), pb.instances.size());
      for (size_t i = 0; i < std::min(pa.instances.size(), pb.instances.size()); ++i) {
        EXPECT_EQ(pa.instances[i].query, pb.instances[i].query);
        EXPECT_EQ(pa.instances[i].score, pb.instances[i].score);
        for (int k = 0; k < 4; ++k) EXPECT_EQ(pa.instances[i].box[k], pb.instances[i].box[k]);
        EXPECT_TRUE(pa.instances[i].mask == pb.instances[i].mask);
      }
      instances += static_cast<int>(pa.instances.size());
    }
    EXPECT_GT(instances, 10) << "too few instances for the comparison to mean much";
  }
  return c_differs;
}

// Substring check on the message of the sam3::Error that `f` throws.
template <class F>
void expect_error(F f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << part << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "message: " << e.what();
  }
}

}  // namespace

TEST(Convert, Bf16FileEqualsConvertingAtLoad) {
  TempDir dir;
  const std::string file = convert(dir, "bf16");
  const auto at_load = load(tiny_pt(), "bf16"), converted = load(file, "bf16");
  EXPECT_EQ(converted->info().precision, "bf16");
  EXPECT_EQ(converted->info().weight_format, "converted bf16 (sam3 convert)");
  EXPECT_EQ(at_load->info().weight_format, "torch checkpoint");
  expect_identical(at_load, converted);
  EXPECT_EQ(load(file, "auto")->info().precision, "bf16");  // auto: the file's own precision
  EXPECT_EQ(load(file, "auto", "")->config_name(), "tiny");  // the config comes from the file
}

TEST(Convert, Int8FileEqualsConvertingAtLoad) {
  TempDir dir;
  const std::string file = convert(dir, "int8");
  const auto at_load = load(tiny_pt(), "int8"), converted = load(file, "int8");
  EXPECT_EQ(converted->info().precision, "int8");
  expect_identical(at_load, converted);
  EXPECT_EQ(load(file, "auto")->info().precision, "int8");
}

// f16 is storage only: run in f32 it must be exactly the f32 model of the f16-rounded values. The expectation is
// built independently of the converter's file format: a torch checkpoint of the rounded values.
TEST(Convert, F16FileComputesItsValuesExactly) {
  TempDir dir;
  const std::string file = convert(dir, "f16");
  const WeightFile src = load_weight_file(tiny_pt());
  std::map<std::string, Tensor> rounded;
  for (const auto& [key, t] : src.tensors)
    rounded["detector." + key] = t.dtype() == DType::F32 ? ops::f16_to_f32(ops::to_f16(t, key)) : t;
  const std::string expect_pt = dir.file("rounded.pt");
  write_torch_checkpoint(expect_pt, rounded);
  const auto original = load(tiny_pt(), "f32");
  const auto from_f16 = load(file, "f32");
  EXPECT_EQ(load(file, "auto")->info().precision, "f32");
  EXPECT_TRUE(expect_identical(load(expect_pt, "f32"), from_f16, original))
      << "f16 rounding changed nothing: the comparison would not see a wrong expansion";
  // Reduced precisions from an f16 file convert its values at load, as from the rounded checkpoint.
  expect_identical(load(expect_pt, "bf16"), load(file, "bf16"), original, false);
  expect_identical(load(expect_pt, "int8"), load(file, "int8"), original, false);
}

// The interactive head is stored f32 (f16 in an f16 file) and picks are the same.
TEST(Convert, InteractiveHeadIsCarriedOver) {
  TempDir dir;
  const std::string pt = golden_path("tiny_pvs/sam3_pvs_random.pt"), cfg = golden_path("tiny_pvs/config.json");
  const std::string file = convert(dir, "bf16", pt, cfg);
  const auto a = load(pt, "bf16", cfg), b = load(file, "bf16", cfg);
  ASSERT_TRUE(a->supports_pick());
  ASSERT_TRUE(b->supports_pick());
  ImageState sa(a), sb(b);
  sa.set_embedding(a->encode_file(golden_path("images/test_image.jpg")));
  sb.set_embedding(b->encode_file(golden_path("images/test_image.jpg")));
  PickPrompt p;
  p.points.push_back(PickPoint{400, 300, true});
  const PickResult ra = pick(sa, p), rb = pick(sb, p);
  ASSERT_EQ(ra.masks.size(), rb.masks.size());
  for (size_t i = 0; i < ra.masks.size(); ++i) {
    EXPECT_EQ(ra.masks[i].iou, rb.masks[i].iou);
    EXPECT_EQ(ra.masks[i].low_res_logits, rb.masks[i].low_res_logits);
    EXPECT_TRUE(ra.masks[i].mask == rb.masks[i].mask);
  }
  EXPECT_TRUE(load(convert(dir, "f16", pt, cfg), "f32", cfg)->supports_pick());
}

TEST(Convert, PrecisionsTheFileCannotGiveAreErrors) {
  TempDir dir;
  const std::string bf16 = convert(dir, "bf16"), int8 = convert(dir, "int8");
  expect_error([&] { load(bf16, "f32"); }, "runs --dtype bf16 (or auto), not f32");
  expect_error([&] { load(bf16, "int8"); }, "convert it to int8");
  expect_error([&] { load(int8, "bf16"); }, "runs --dtype int8 (or auto), not bf16");
  expect_error([&] { load(int8, "f32"); }, "load the original checkpoint with --dtype f32");
  expect_error([&] { load(bf16, "fp16"); }, "unknown dtype 'fp16'");
}

TEST(Convert, ConfigMustAgreeWithTheStoredOne) {
  TempDir dir;
  const std::string file = convert(dir, "int8");
  Config same = load_config_file(tiny_cfg());
  same.name = "tiny-renamed";  // a label: may differ
  const std::string same_path = dir.file("same.json"), other_path = dir.file("other.json");
  std::ofstream(same_path) << config_to_json(same);
  Config other = same;
  other.decoder.num_queries = 10;
  std::ofstream(other_path) << config_to_json(other);
  EXPECT_EQ(load(file, "auto", same_path)->config_name(), "tiny-renamed");
  expect_error([&] { load(file, "auto", other_path); }, "disagrees with the config stored in");
  // The converter checks the source against the config, and refuses a converted source.
  expect_error([&] { convert(dir, "bf16", tiny_pt(), other_path); }, "transformer.decoder.query_embed.weight");
  expect_error([&] { convert(dir, "bf16", file); }, "already converted");
  expect_error([&] { convert(dir, "f8"); }, "unknown storage dtype 'f8'");
  expect_error([&] { convert(dir, "bf16", dir.file("missing.pt")); }, "missing.pt");
}

// Hostile converted files: each is the int8 file with one thing broken, and must fail to load with a clear error.
class HostileConverted : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = convert(dir_, "int8");
    TensorFile f = read_safetensors(file_);
    metadata_ = f.metadata;
    for (const auto& [k, t] : f.tensors) tensors_[k] = t.clone();
    // One I8 weight of the image encoder and its scale.
    for (const auto& [k, t] : tensors_)
      if (t.dtype() == DType::I8) {
        weight_ = k;
        break;
      }
    ASSERT_FALSE(weight_.empty());
    ASSERT_TRUE(tensors_.count(weight_ + ".scale"));
  }
  // Writes the (modified) tensors and metadata and returns the load error's message.
  std::string load_error(bool validate = true, const std::string& dtype = "int8") {
    const std::string path = dir_.file("hostile" + std::to_string(n_++) + ".safetensors");
    write_safetensors(path, tensors_, metadata_);
    try {
      load(path, dtype, tiny_cfg(), validate);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  Tensor& scale() { return tensors_[weight_ + ".scale"]; }

  TempDir dir_;
  std::string file_, weight_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
  int n_ = 0;
};

TEST_F(HostileConverted, Unmodified) { EXPECT_EQ(load_error(), "(no error)"); }

TEST_F(HostileConverted, BadScaleValues) {
  const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 0.0f, -1.0f};
  for (float v : bad) {
    const float keep = scale().f32()[1];
    scale().f32()[1] = v;
    for (bool validate : {true, false})
      EXPECT_NE(load_error(validate).find("scales must be finite and positive"), std::string::npos) << v;
    scale().f32()[1] = keep;
  }
}

TEST_F(HostileConverted, ScaleOfTheWrongDtypeOrShape) {
  const Tensor good = scale();
  scale() = ops::to_f16(good, "scale");
  EXPECT_NE(load_error().find("wrong dtype: " + weight_ + ".scale is"), std::string::npos) << load_error();
  EXPECT_NE(load_error(false).find(weight_ + ".scale"), std::string::npos);
  scale() = Tensor::zeros({good.size(0) + 1});
  EXPECT_NE(load_error().find("wrong shape: " + weight_ + ".scale"), std::string::npos) << load_error();
  tensors_.erase(weight_ + ".scale");
  EXPECT_NE(load_error().find("missing: " + weight_ + ".scale"), std::string::npos) << load_error();
  EXPECT_NE(load_error(false).find("missing tensor '" + weight_ + ".scale'"), std::string::npos) << load_error(false);
}

TEST_F(HostileConverted, StrayScaleAndWrongWeightDtype) {
  tensors_["transformer.decoder.norm.weight.scale"] = Tensor::zeros({64});
  EXPECT_NE(load_error().find("unexpected: transformer.decoder.norm.weight.scale"), std::string::npos);
  tensors_.erase("transformer.decoder.norm.weight.scale");
  tensors_[weight_] = Tensor::zeros(tensors_[weight_].shape(), DType::BF16);  // bf16 where int8 belongs
  EXPECT_NE(load_error().find("wrong dtype: " + weight_ + " is"), std::string::npos) << load_error();
  EXPECT_NE(load_error(false).find("stored as BF16, which cannot run int8"), std::string::npos) << load_error(false);
}

TEST_F(HostileConverted, MinusOneTwentyEight) {
  tensors_[weight_].data<int8_t>()[3] = -128;
  EXPECT_NE(load_error().find("-128"), std::string::npos) << load_error();
}

TEST_F(HostileConverted, Metadata) {
  const auto good = metadata_;
  metadata_.erase("config");
  EXPECT_NE(load_error().find("without the metadata entry 'config'"), std::string::npos) << load_error();
  metadata_ = good;
  metadata_["config"] = "{\"vit\": {\"depth\": \"four\"}}";
  EXPECT_NE(load_error().find("metadata 'config'"), std::string::npos) << load_error();
  metadata_ = good;
  metadata_["format_version"] = "2";
  EXPECT_NE(load_error().find("format version '2'"), std::string::npos) << load_error();
  metadata_ = good;
  metadata_["dtype"] = "f8";
  EXPECT_NE(load_error().find("unknown dtype 'f8'"), std::string::npos) << load_error();
  metadata_ = good;
  metadata_["dtype"] = "bf16";  // says bf16, holds int8
  EXPECT_NE(load_error(true, "auto").find("wrong dtype"), std::string::npos) << load_error(true, "auto");
  EXPECT_NE(load_error(false, "auto").find("stored as I8, which cannot run bf16"), std::string::npos)
      << load_error(false, "auto");
}

TEST_F(HostileConverted, TruncatedFile) {
  std::ifstream in(file_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t keep : {bytes.size() - 1, bytes.size() / 2, size_t{100}, size_t{5}}) {
    const std::string path = dir_.file("truncated" + std::to_string(keep) + ".safetensors");
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    expect_error([&] { load(path, "int8"); }, "malformed safetensors file '" + path + "'");
  }
}

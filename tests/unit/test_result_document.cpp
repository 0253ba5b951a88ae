// sam3::result_to_json: the one writer of the result document (docs/segment.md) for the CLI and the server. The
// default is io/result_json.h's schema as is; the front-end additions land at their documented places.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/result_json.h"
#include "sam3/sam3.h"

namespace sam3 {
namespace {

SegmentResult two_prompts() {
  SegmentResult r;
  r.image_width = 4;
  r.image_height = 3;
  r.total_ms = 12.5;
  for (int i = 0; i < 2; ++i) {
    PromptResult p;
    p.prompt.text = i == 0 ? "dog" : "";
    if (i == 1) p.prompt.boxes.push_back(PromptBox::from_xyxy(0, 0, 2, 2, 4, 3, false));
    p.text_used = i == 0 ? "dog" : "visual";
    p.threshold = 0.25f;
    p.image_width = 4;
    p.image_height = 3;
    Instance in;
    in.query = 7;
    in.score = 0.75f;
    in.box[2] = 2;
    in.box[3] = 1;
    const uint8_t bitmap[] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    in.mask = Mask::from_bitmap(bitmap, 4, 3);
    p.instances.push_back(in);
    p.semantic = in.mask;
    r.prompts.push_back(p);
  }
  return r;
}

std::vector<std::string> keys(const Json& j) {
  std::vector<std::string> k;
  for (const auto& [key, v] : j.items()) k.push_back(key);
  return k;
}

TEST(ResultDocument, DefaultIsTheSharedSchema) {
  const SegmentResult r = two_prompts();
  EXPECT_EQ(result_to_json(r), segment_result_to_json(r).dump());
  EXPECT_EQ(result_to_json(r, [] {
              ResultJsonParams p = result_json_default_params();
              p.indent = 1;
              return p;
            }()),
            segment_result_to_json(r).dump(1));
}

TEST(ResultDocument, CliAdditions) {
  ResultJsonParams p = result_json_default_params();
  p.model_path = "m.pt";
  p.model_config = "tiny";
  p.image_path = "a.jpg";
  p.embedding_path = "a.emb";
  p.threshold = true;
  p.timings_ms = {{"load", 1}, {"decode", 2}, {"encode", 3}, {"segment", 4}, {"total", 10}};
  const Json j = Json::parse(result_to_json(two_prompts(), p));
  EXPECT_EQ(keys(j), (std::vector<std::string>{"schema", "model", "image", "threshold", "prompts", "timings_ms"}));
  EXPECT_EQ(j["model"], (Json{{"path", "m.pt"}, {"config", "tiny"}}));
  EXPECT_EQ(j["image"], (Json{{"path", "a.jpg"}, {"width", 4}, {"height", 3}, {"embedding", "a.emb"}}));
  EXPECT_EQ(j["threshold"], 0.25);
  EXPECT_EQ(keys(j["timings_ms"]), (std::vector<std::string>{"load", "decode", "encode", "segment", "total"}));
  EXPECT_TRUE(j["prompts"][0].contains("semantic"));
  EXPECT_FALSE(j["prompts"][0].contains("cached"));
}

TEST(ResultDocument, ServerAdditions) {
  ResultJsonParams p = result_json_default_params();
  p.session_id = "abc";
  p.semantic = false;
  p.cached = {true, false};
  p.timings_ms = {{"segment", 4}, {"queue_wait", 0.5}, {"rethreshold", 0}, {"total", 6}};
  p.processing_time = true;
  const std::string text = result_to_json(two_prompts(), p);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const Json j = Json::parse(text);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"schema", "session_id", "image", "prompts", "timings_ms",
                                               "processing_time_ms"}));
  EXPECT_EQ(j["image"], (Json{{"width", 4}, {"height", 3}}));
  EXPECT_EQ(j["processing_time_ms"], 6.0);
  EXPECT_FALSE(j["prompts"][0].contains("semantic"));
  EXPECT_EQ(keys(j["prompts"][1]).back(), "cached");
  EXPECT_EQ(j["prompts"][0]["cached"], true);
  EXPECT_EQ(j["prompts"][1]["cached"], false);

  p.cached = {true};
  EXPECT_THROW(result_to_json(two_prompts(), p), Error);
}

TEST(ResultDocument, InvalidUtf8IsALibraryError) {
  SegmentResult r = two_prompts();
  r.prompts[0].prompt.text = "\xff\xfe";
  EXPECT_THROW(result_to_json(r), Error);
}

}  // namespace
}  // namespace sam3

// sam3.cpp — `sam3 serve` pick API (POST /v1/sessions/{id}/pick, docs/server.md): against the real binary on the
// tiny_pvs fixture model: a click gives the library's 3 masks (the same JSON as pick_result_to_json in this process),
// refinement through mask_from (the fixture's refinement case), the session's bounded pick memory (LRU), every 4xx,
// and a model without the interactive weights.
#include <gtest/gtest.h>

#include "io/image_decode.h"
#include "io/result_json.h"
#include "sam3/sam3.h"
#include "server_harness.h"

namespace sam3::test {
namespace {

constexpr int kThreads = 1;

std::string street() { return read_bytes(golden_path("images/test_image.jpg")); }  // 1280x720

class ServerPick : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({"--threads", std::to_string(kThreads), "--max-sessions", "4"}, {},
                                "tiny_pvs/sam3_pvs_random.pt", "tiny_pvs/config.json");
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->log();
    delete server_;
    server_ = nullptr;
  }
  void TearDown() override { ASSERT_TRUE(server_->alive()) << "the server died:\n" << server_->log(); }
  std::string ready_session() {
    httplib::Client c = server_->client();
    auto r = create_session(c, street());
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    const std::string id = body_json(r).value("session_id", "");
    EXPECT_EQ(wait_ready(c, id).value("status", ""), "ready");
    return id;
  }
  static ServerProcess* server_;
};
ServerProcess* ServerPick::server_ = nullptr;

void expect_error(const httplib::Result& r, int status, const std::string& fragment) {
  ASSERT_TRUE(r) << "no answer";
  EXPECT_EQ(r->status, status) << r->body;
  const Json j = body_json(r);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  EXPECT_NE(j["error"].get<std::string>().find(fragment), std::string::npos) << j["error"];
}

Json stable_pick(Json j) {
  j = stable_result(std::move(j));
  j.erase("pick_id");
  return j;
}

TEST_F(ServerPick, ClickRefineAndTheLibrarysAnswer) {
  const std::string id = ready_session();
  httplib::Client c = server_->client();
  const std::string path = "/v1/sessions/" + id + "/pick";
  auto r = post_json(c, path, Json{{"points", Json::array({Json{{"x", 470}, {"y", 420}, {"label", 1}}})}});
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  const Json a = body_json(r);
  EXPECT_EQ(a["session_id"], id);
  const std::string pick1 = a.value("pick_id", "");
  EXPECT_FALSE(pick1.empty());
  ASSERT_EQ(a["prompts"][0]["instances"].size(), 3u);
  EXPECT_NEAR(a["prompts"][0]["instances"][1]["score"].get<double>(), 0.61995661, 1e-5);
  EXPECT_TRUE(a.contains("processing_time_ms"));
  EXPECT_EQ(body_json(c.Get("/health"))["pick"], true);
  const Json api = body_json(c.Get("/openapi.json"));
  EXPECT_TRUE(api["paths"].contains("/v1/sessions/{id}/pick"));
  EXPECT_TRUE(api["components"]["schemas"].contains("PickRequest"));

  // The library in this process gives the same document.
  ModelParams mp = model_default_params();
  mp.dtype = "f32";  // parity with the fixtures
  mp.config_path = golden_path("tiny_pvs/config.json");
  auto model = Model::load(golden_path("tiny_pvs/sam3_pvs_random.pt"), mp);
  const Image img = decode_image_file(golden_path("images/test_image.jpg"));
  ImageState st(model);
  EncodeParams ep = encode_default_params();
  ep.n_threads = kThreads;
  st.set_image(ImageView{img.pixels.data(), static_cast<int>(img.width), static_cast<int>(img.height)}, ep);
  PickPrompt p;
  p.points.push_back({470, 420, true});
  PickParams pp = pick_default_params();
  pp.n_threads = kThreads;
  const PickResult lib = pick(st, p, pp);
  Json want = Json::parse(pick_result_to_json(lib));
  for (Json* d : {&want}) (*d)["prompts"][0].erase("timings_ms");
  Json got = stable_pick(a);
  got.erase("timings_ms");
  want.erase("timings_ms");
  EXPECT_TRUE(same_json(got, want));

  // Refinement from the kept pick (the fixture's case 5): one mask, its IoU.
  r = post_json(c, path,
                Json{{"points", Json::array({Json{{"x", 470}, {"y", 420}}, Json{{"x", 440}, {"y", 560}}})},
                     {"mask_from", pick1}});
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  const Json b = body_json(r);
  ASSERT_EQ(b["prompts"][0]["instances"].size(), 1u);
  EXPECT_NEAR(b["prompts"][0]["instances"][0]["score"].get<double>(), 0.70842141, 1e-5);
  EXPECT_EQ(b["prompts"][0]["instances"][0]["area"].get<int64_t>(), 629190);
  EXPECT_NE(b.value("pick_id", ""), pick1);
  // mask_index picks another of pick1's masks; a wrong index is a 400.
  r = post_json(c, path,
                Json{{"points", Json::array({Json{{"x", 470}, {"y", 420}}})},
                     {"mask_from", pick1},
                     {"mask_index", 2},
                     {"multimask", true}});
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  EXPECT_EQ(body_json(r)["prompts"][0]["instances"].size(), 3u);
  expect_error(post_json(c, path, Json{{"mask_from", pick1}, {"mask_index", 5}}), 400, "has 3 masks");

  // The session keeps its last kMaxPicks picks: the first one is dropped after that many more.
  for (int i = 0; i < 16; ++i) {
    r = post_json(c, path, Json{{"box", Json::array({360, 280, 493, 662})}});
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  }
  expect_error(post_json(c, path, Json{{"mask_from", pick1}}), 400, "has no pick");
  const Json status = body_json(c.Get(("/v1/sessions/" + id).c_str()));
  EXPECT_GT(status["memory_bytes"].get<int64_t>(), 16 * 72 * 72 * 4);  // the kept logits are counted
}

TEST_F(ServerPick, BadRequestsAre4xx) {
  const std::string id = ready_session();
  httplib::Client c = server_->client();
  const std::string path = "/v1/sessions/" + id + "/pick";
  expect_error(c.Post(path.c_str(), "{not json", "application/json"), 400, "not valid JSON");
  expect_error(post_json(c, path, Json::object()), 400, "empty");
  expect_error(post_json(c, path, Json{{"pointz", Json::array()}}), 400, "unknown field 'pointz'");
  expect_error(post_json(c, path, Json{{"points", Json::array({Json{{"x", 1}}})}}), 400, "needs 'x' and 'y'");
  expect_error(post_json(c, path, Json{{"points", Json::array({Json{{"x", 1}, {"y", "a"}}})}}), 400,
               "points[0].y must be a number");
  expect_error(post_json(c, path, Json{{"points", Json::array({Json{{"x", 1}, {"y", 2}, {"label", 7}}})}}), 400,
               "label");
  expect_error(post_json(c, path, Json{{"points", Json::array({Json{{"x", 1300}, {"y", 2}}})}}), 400,
               "outside the 1280x720 image");
  expect_error(post_json(c, path, Json{{"box", Json::array({50, 50, 40, 60})}}), 400, "degenerate");
  expect_error(post_json(c, path, Json{{"box", Json::array({5000, 5000, 6000, 6000})}}), 400, "no area");
  expect_error(post_json(c, path, Json{{"mask_from", "pick-77"}}), 400, "has no pick 'pick-77'");
  expect_error(post_json(c, path, Json{{"points", Json::array({Json{{"x", 1}, {"y", 2}}})}, {"multimask", 3}}), 400,
               "multimask");
  expect_error(post_json(c, "/v1/sessions/nope/pick", Json{{"points", Json::array({Json{{"x", 1}, {"y", 2}}})}}), 404,
               "unknown session");
}

TEST(ServerPickLimits, ModelWithoutInteractiveWeights) {
  ServerProcess server({"--threads", "1"});  // tiny/sam3_random.pt: no prompt encoder
  httplib::Client c = server.client();
  auto r = create_session(c, street());
  const std::string id = body_json(r).value("session_id", "");
  wait_ready(c, id);
  expect_error(post_json(c, "/v1/sessions/" + id + "/pick", Json{{"points", Json::array({Json{{"x", 1}, {"y", 2}}})}}),
               400, "no interactive weights");
  EXPECT_EQ(body_json(c.Get("/health"))["pick"], false);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace sam3::test

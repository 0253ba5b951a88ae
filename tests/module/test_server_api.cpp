// sam3.cpp — `sam3 serve` API tests: every endpoint and every error path of docs/server.md, against the real
// binary on the tiny fixture model on loopback; results compared with the library run in this process.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "io/image_decode.h"
#include "io/image_encode.h"
#include "io/result_json.h"
#include "io/rle.h"
#include "sam3/sam3.h"
#include "server_harness.h"

namespace sam3::test {
namespace {

constexpr int kThreads = 1;  // the server's and the in-process reference's thread count (same kernels, same order)

std::string groceries() { return read_bytes(golden_path("images/groceries.jpg")); }  // 800x534
std::string street() { return read_bytes(golden_path("images/test_image.jpg")); }    // 1280x720

// One server for most tests: small upload limits so that 413s are cheap to provoke.
class ServerApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({"--threads", std::to_string(kThreads), "--max-upload-mb", "1", "--max-pixels",
                                 "1000000", "--max-sessions", "16", "--queue-size", "16", "--test-hold-file",
                                 hold_file()});
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->log();  // SIGTERM: clean exit
    delete server_;
    server_ = nullptr;
  }
  void TearDown() override { ASSERT_TRUE(server_->alive()) << "the server died:\n" << server_->log(); }

  // A ready session on `bytes`.
  std::string ready_session(const std::string& bytes) {
    httplib::Client c = server_->client();
    auto r = create_session(c, bytes);
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    const std::string id = body_json(r).value("session_id", "");
    EXPECT_EQ(wait_ready(c, id).value("status", ""), "ready");
    return id;
  }

  // While this file exists the server's worker starts no task (sam3 serve --test-hold-file); normally absent.
  static std::string hold_file() {
    static const std::string path =
        (std::getenv("TMPDIR") && *std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : std::string("/tmp")) +
        "/sam3_server_api_hold_" + std::to_string(getpid());
    return path;
  }

  static ServerProcess* server_;
};
ServerProcess* ServerApi::server_ = nullptr;

// The library's answer to the same request, in the same JSON schema (semantic masks kept when asked for).
Json reference_result(const std::string& image_file, const std::vector<Prompt>& prompts, float threshold,
                      bool semantic) {
  auto model = Model::load(golden_path("tiny/sam3_random.pt"), [] {
    ModelParams p = model_default_params();
    p.dtype = "f32";  // parity with the fixtures
    p.config_path = golden_path("tiny/config.json");
    return p;
  }());
  const Image img = decode_image_file(golden_path(image_file));
  ImageState st(model);
  EncodeParams ep = encode_default_params();
  ep.n_threads = kThreads;
  st.set_image(ImageView{img.pixels.data(), static_cast<int>(img.width), static_cast<int>(img.height)}, ep);
  SegmentParams sp = segment_default_params();
  sp.n_threads = kThreads;
  sp.threshold = threshold;
  sp.semantic = semantic;
  return stable_result(segment_result_to_json(segment(st, prompts, sp)));
}

void expect_error(const httplib::Result& r, int status, const std::string& fragment = "") {
  ASSERT_TRUE(r) << "no answer (connection error " << static_cast<int>(r.error()) << ")";
  EXPECT_EQ(r->status, status) << r->body;
  const Json j = body_json(r);
  ASSERT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string()) << "not a JSON error: " << r->body;
  EXPECT_NE(j["error"].get<std::string>().find(fragment), std::string::npos) << j["error"];
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
}

TEST_F(ServerApi, BannerHealthOpenapiAndUi) {
  EXPECT_NE(server_->banner().find("model tiny"), std::string::npos) << server_->banner();
  httplib::Client c = server_->client();
  auto r = c.Get("/health");
  ASSERT_TRUE(r && r->status == 200);
  const Json h = body_json(r);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["config"], "tiny");
  EXPECT_EQ(h["dtype"], "f32");
  EXPECT_EQ(h["precision"], "f32");  // --dtype f32 (server_harness.h)
  EXPECT_FALSE(h["isa"].get<std::string>().empty());
  EXPECT_EQ(h["threads"], kThreads);
  EXPECT_EQ(h["input_size"], 252);
  EXPECT_TRUE(h["queue"]["length"].is_number_integer());
  EXPECT_EQ(h["queue"]["capacity"], 16);
  EXPECT_EQ(h["sessions"]["max"], 16);
  EXPECT_GT(h["memory"]["peak_rss_bytes"].get<int64_t>(), 0);

  r = c.Get("/openapi.json");
  ASSERT_TRUE(r && r->status == 200);
  const Json api = body_json(r);
  EXPECT_EQ(api["openapi"], "3.0.3");
  for (const char* p : {"/health", "/v1/sessions", "/v1/sessions/{id}", "/v1/sessions/{id}/segment", "/v1/segment"})
    EXPECT_TRUE(api["paths"].contains(p)) << p;

  r = c.Get("/");
  ASSERT_TRUE(r && r->status == 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r->body.find("<html"), std::string::npos);
  r = c.Get("/index.html");
  ASSERT_TRUE(r && r->status == 200);
  expect_error(c.Get("/no/such/file.js"), 404, "no such path");
  expect_error(c.Get("/v1/nothing"), 404);
  expect_error(c.Put("/v1/sessions", "x", "text/plain"), 404);
}

TEST_F(ServerApi, EncoderProgressCallback) {  // the library hook the session status reports
  auto model = Model::load(golden_path("tiny/sam3_random.pt"), [] {
    ModelParams p = model_default_params();
    p.dtype = "f32";  // parity with the fixtures
    p.config_path = golden_path("tiny/config.json");
    return p;
  }());
  std::vector<uint8_t> rgb(40 * 30 * 3, 128);
  std::vector<float> seen;
  EncodeParams ep = encode_default_params();
  ep.n_threads = 1;
  ep.progress = [&seen](float f) { seen.push_back(f); };
  model->encode(ImageView{rgb.data(), 40, 30}, ep);
  ASSERT_EQ(seen.size(), 6u);  // start, 4 ViT blocks (tiny config), end
  EXPECT_EQ(seen.front(), 0.0f);
  EXPECT_EQ(seen.back(), 1.0f);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(ServerApi, SessionLifecycleAndResultsEqualTheLibrary) {
  httplib::Client c = server_->client();
  auto r = create_session(c, groceries(), "groceries.jpg");
  ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "");
  Json j = body_json(r);
  const std::string id = j["session_id"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(j["width"], 800);
  EXPECT_EQ(j["height"], 534);
  EXPECT_EQ(j["status"], "encoding");
  EXPECT_TRUE(j["timings_ms"]["decode"].is_number());

  j = wait_ready(c, id);
  ASSERT_EQ(j["status"], "ready") << j.dump();
  EXPECT_EQ(j["progress"], 1.0);
  EXPECT_EQ(j["queued"], false);
  EXPECT_GT(j["memory_bytes"].get<int64_t>(), 0);
  for (const char* k : {"queue_wait", "encode", "preprocess", "patch_embed", "window_blocks", "global_blocks", "neck"})
    EXPECT_TRUE(j["timings_ms"].contains(k)) << k;

  // Text, text + boxes (positive and negative), boxes only: one request, three independent prompts.
  const Json pos = {{"box", {100, 120, 300, 400}}, {"label", true}};
  const Json neg = {{"box", {500, 50, 700, 200}}, {"label", false}};
  const Json req = {{"prompts", Json::array({Json{{"text", "banana"}},
                                             Json{{"text", "apple"}, {"boxes", Json::array({pos, neg})}},
                                             Json{{"boxes", Json::array({Json{{"box", {100, 120, 300, 400}}}})}}})},
                    {"threshold", 0.3}};
  r = post_json(c, "/v1/sessions/" + id + "/segment", req);
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  j = body_json(r);
  EXPECT_EQ(j["schema"], "sam3.segment/1");
  EXPECT_EQ(j["session_id"], id);
  ASSERT_EQ(j["prompts"].size(), 3u);
  for (const char* k : {"segment", "queue_wait", "rethreshold", "total"}) EXPECT_TRUE(j["timings_ms"].contains(k)) << k;
  EXPECT_TRUE(j["processing_time_ms"].is_number());
  size_t instances = 0;
  for (const Json& p : j["prompts"]) {
    EXPECT_EQ(p["cached"], false);
    EXPECT_FALSE(p.contains("semantic"));
    EXPECT_TRUE(p["timings_ms"].contains("fusion_encoder"));
    for (const Json& in : p["instances"]) {
      ++instances;
      EXPECT_GT(in["score"].get<double>(), 0.3);
      EXPECT_EQ(in["box"].size(), 4u);
      EXPECT_EQ(in["mask"]["size"], Json::array({534, 800}));
      const Rle rle = rle_from_string(in["mask"]["counts"].get<std::string>(), 534, 800);
      EXPECT_EQ(rle_area(rle), in["area"].get<int64_t>());
    }
  }
  EXPECT_GT(instances, 0u) << "pick a threshold that keeps instances on the tiny model";
  EXPECT_EQ(j["prompts"][1]["boxes"][1]["label"], "negative");
  EXPECT_EQ(j["prompts"][2]["text_encoded"], "visual");

  // Identical to the library's result for the same image and prompts.
  std::vector<Prompt> prompts(3);
  prompts[0].text = "banana";
  prompts[1].text = "apple";
  prompts[1].boxes = {PromptBox::from_xyxy(100, 120, 300, 400, 800, 534, true),
                      PromptBox::from_xyxy(500, 50, 700, 200, 800, 534, false)};
  prompts[2].boxes = {PromptBox::from_xyxy(100, 120, 300, 400, 800, 534, true)};
  Json ref = reference_result("images/groceries.jpg", prompts, 0.3f, /*semantic=*/false);
  EXPECT_EQ(j["compute"]["precision"], "f32");  // the harness starts the server with --dtype f32
  EXPECT_FALSE(j["compute"]["isa"].get<std::string>().empty());
  for (Json& p : ref["prompts"]) p.erase("semantic");
  EXPECT_TRUE(same_json(stable_result(j), ref));

  // Same prompts, another threshold: answered from the kept raw outputs, equal to a fresh run at that threshold.
  Json req2 = req;
  req2["threshold"] = 0.25;
  req2["semantic"] = true;
  r = post_json(c, "/v1/sessions/" + id + "/segment", req2);
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  j = body_json(r);
  for (const Json& p : j["prompts"]) {
    EXPECT_EQ(p["cached"], true);
    EXPECT_TRUE(p.contains("semantic"));
  }
  EXPECT_EQ(j["timings_ms"]["segment"], 0.0);  // the model did not run
  EXPECT_TRUE(same_json(stable_result(j), reference_result("images/groceries.jpg", prompts, 0.25f, /*semantic=*/true)));
  r = c.Get(("/v1/sessions/" + id).c_str());
  EXPECT_EQ(body_json(r)["cached_prompts"], 3);

  // A mix of a seen and a new prompt: only the new one runs.
  const Json req3 = {{"prompts", Json::array({Json{{"text", "banana"}}, Json{{"text", "bread"}}})}, {"threshold", 0.3}};
  j = body_json(post_json(c, "/v1/sessions/" + id + "/segment", req3));
  ASSERT_EQ(j["prompts"].size(), 2u) << j.dump();
  EXPECT_EQ(j["prompts"][0]["cached"], true);
  EXPECT_EQ(j["prompts"][1]["cached"], false);

  // Delete: gone afterwards.
  r = c.Delete(("/v1/sessions/" + id).c_str());
  ASSERT_TRUE(r && r->status == 200);
  EXPECT_EQ(body_json(r)["deleted"], true);
  expect_error(c.Get(("/v1/sessions/" + id).c_str()), 404, "unknown session");
  expect_error(c.Delete(("/v1/sessions/" + id).c_str()), 404, "unknown session");
  expect_error(post_json(c, "/v1/sessions/" + id + "/segment", req), 404, "unknown session");
}

TEST_F(ServerApi, RawBodyUploadAndPng) {
  httplib::Client c = server_->client();
  auto r = c.Post("/v1/sessions", groceries(), "image/jpeg");
  ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "");
  EXPECT_EQ(wait_ready(c, body_json(r)["session_id"])["status"], "ready");
  // A PNG (made here) of 31x17 pixels.
  std::vector<uint8_t> px(31 * 17 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  const std::vector<uint8_t> png = encode_png(px.data(), 31, 17, 3);
  r = create_session(c, std::string(png.begin(), png.end()), "x.png");
  ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "");
  const Json j = body_json(r);
  EXPECT_EQ(j["width"], 31);
  EXPECT_EQ(j["height"], 17);
  EXPECT_EQ(wait_ready(c, j["session_id"])["status"], "ready");
}

TEST_F(ServerApi, UploadErrors) {
  httplib::Client c = server_->client();
  expect_error(create_session(c, "hello, not an image"), 400, "not a JPEG or PNG");
  expect_error(c.Post("/v1/sessions", "", "image/jpeg"), 400, "empty");
  const std::string g = groceries();
  expect_error(create_session(c, g.substr(0, g.size() / 3)), 400);  // truncated JPEG
  httplib::MultipartFormDataItems wrong_field = {{"picture", g, "g.jpg", "image/jpeg"}};
  expect_error(c.Post("/v1/sessions", wrong_field), 400, "'image'");
  // 413: more bytes than --max-upload-mb 1 (checked per field, the body itself is within httplib's limit).
  std::string big = g;
  while (big.size() <= (1u << 20)) big += g;
  expect_error(create_session(c, big), 413, "limit");
  // 413: more pixels than --max-pixels 1000000, read from the header (1001x1000 PNG).
  std::vector<uint8_t> px(1001 * 1000 * 3, 0);
  const std::vector<uint8_t> png = encode_png(px.data(), 1001, 1000, 3);
  ASSERT_LT(png.size(), 1u << 20);
  expect_error(create_session(c, std::string(png.begin(), png.end())), 413, "pixels");
  // A body far beyond every limit: refused (413) from its headers alone, before a byte of it is sent or read, and
  // the connection is closed (a raw socket: httplib's client would send the whole body first).
  const Exchange ex = talk(server_->port(), {raw_headers("POST /v1/sessions HTTP/1.1", server_->port(),
                                                         {"Content-Length: 8388608", "Content-Type: image/jpeg"})});
  EXPECT_EQ(ex.status(), 413) << ex.text;
  EXPECT_NE(ex.body().find("upload limit"), std::string::npos) << ex.body();
  EXPECT_TRUE(ex.closed);
  EXPECT_LT(ex.seconds, 10.0);
  // Nothing was kept.
  EXPECT_TRUE(server_->alive());
}

TEST_F(ServerApi, SegmentRequestErrors) {
  const std::string id = ready_session(groceries());
  httplib::Client c = server_->client();
  const std::string path = "/v1/sessions/" + id + "/segment";
  auto post = [&](const std::string& body) { return c.Post(path.c_str(), body, "application/json"); };
  expect_error(post("{not json"), 400, "malformed JSON");
  expect_error(post(""), 400, "malformed JSON");
  expect_error(post("[]"), 400, "JSON object");
  expect_error(post("{}"), 400, "'prompts'");
  expect_error(post(R"({"prompts": []})"), 400, "empty");
  expect_error(post(R"({"prompts": "dog"})"), 400, "'prompts'");
  expect_error(post(R"({"prompts": [{}]})"), 400, "prompts[0] is empty");
  expect_error(post(R"({"prompts": [{"text": "   "}]})"), 400, "prompts[0] is empty");
  expect_error(post(R"({"prompts": [{"text": 3}]})"), 400, "prompts[0].text");
  expect_error(post(R"({"prompts": [{"txt": "dog"}]})"), 400, "unknown field 'txt'");
  expect_error(post(R"({"prompts": [{"text": "dog"}], "treshold": 0.2})"), 400, "unknown field 'treshold'");
  expect_error(post(R"({"prompts": [{"text": "dog"}], "threshold": 1.5})"), 400, "threshold");
  expect_error(post(R"({"prompts": [{"text": "dog"}], "threshold": "high"})"), 400, "threshold");
  expect_error(post(R"({"prompts": [{"text": "dog"}], "semantic": 1})"), 400, "semantic");
  expect_error(post(R"({"prompts": [{"boxes": [{"box": [1, 2, 3]}]}]})"), 400, "prompts[0].boxes[0].box");
  expect_error(post(R"({"prompts": [{"boxes": [{"box": [1, 2, "3", 4]}]}]})"), 400, "box[2]");
  expect_error(post(R"({"prompts": [{"boxes": [{"box": [50, 2, 10, 4]}]}]})"), 400, "x0 <= x1");
  expect_error(post(R"({"prompts": [{"boxes": [{"box": [1, 2, 3, 1e300]}]}]})"), 400, "finite");
  expect_error(post(R"({"prompts": [{"boxes": [{"box": [1, 2, 3, 4], "label": "maybe"}]}]})"), 400, "label");
  expect_error(post(R"({"prompts": [{"boxes": [7]}]})"), 400, "boxes[0]");
  expect_error(post(R"({"prompts": [{"boxes": {"box": [1, 2, 3, 4]}}]})"), 400, "boxes must be an array");
  Json many = {{"prompts", Json::array()}};
  for (int i = 0; i < 33; ++i) many["prompts"].push_back(Json{{"text", "dog"}});
  expect_error(post(many.dump()), 400, "more than 32 prompts");
  const Json long_text = {{"prompts", Json::array({Json{{"text", std::string(2000, 'a')}}})}};
  expect_error(post(long_text.dump()), 400, "longer than");
  // Labels as strings are accepted; a box-only prompt with a negative box is a valid query.
  auto r = post(R"({"prompts": [{"boxes": [{"box": [1, 2, 30, 40], "label": "negative"}]}], "threshold": 0.9})");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  // Unknown session ids, odd ones included.
  expect_error(c.Post("/v1/sessions/0123456789abcdef0123456789abcdef/segment", R"({"prompts": [{"text": "a"}]})",
                      "application/json"),
               404, "unknown session");
  expect_error(c.Get("/v1/sessions/..%2F..%2Fetc"), 404);
  expect_error(c.Get("/v1/sessions/%00"), 404);
}

// Boxes are checked as `sam3 segment` checks them (PromptBox::from_user_xyxy): no area or wholly outside the image
// is a 400 naming the box; a box partly outside is clipped, and the result equals the library's on the clipped box.
TEST_F(ServerApi, BoxesCheckedAndClippedLikeTheCli) {
  const std::string id = ready_session(groceries());  // 800x534
  httplib::Client c = server_->client();
  const std::string path = "/v1/sessions/" + id + "/segment";
  auto post = [&](const std::string& body) { return c.Post(path.c_str(), body, "application/json"); };
  expect_error(post(R"({"prompts": [{"text": "a", "boxes": [{"box": [10, 10, 30, 10]}]}]})"), 400,
               "prompts[0].boxes[0]: degenerate box [10, 10, 30, 10]: y0 == y1");
  expect_error(post(R"({"prompts": [{"boxes": [{"box": [5, 5, 5, 9]}]}]})"), 400, "no area");
  expect_error(post(R"({"prompts": [{"text": "a"}, {"text": "b", "boxes": [[1, 1, 9, 9], [900, 10, 950, 60]]}]})"),
               400, "prompts[1].boxes[1]: box [900, 10, 950, 60] lies entirely outside the 800x534 image");
  expect_error(post(R"({"prompts": [{"boxes": [[-40, 0, 0, 60]]}]})"), 400, "lies entirely outside");

  const Json req = {{"prompts", Json::array({Json{{"text", "apple"}, {"boxes", Json::array({Json::array({-50, -40,
                                                                                                          300, 400})})}}})},
                    {"threshold", 0.3}};
  auto r = post_json(c, path, req);
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  const Json j = body_json(r);
  EXPECT_EQ(j["prompts"][0]["boxes"][0]["xyxy"], Json::array({0, 0, 300, 400}));
  std::vector<Prompt> prompts(1);
  prompts[0].text = "apple";
  prompts[0].boxes = {PromptBox::from_xyxy(0, 0, 300, 400, 800, 534, true)};
  Json ref = reference_result("images/groceries.jpg", prompts, 0.3f, /*semantic=*/false);
  for (Json& p : ref["prompts"]) p.erase("semantic");
  EXPECT_TRUE(same_json(stable_result(j), ref));

  // One-shot: the same check against the uploaded image's size.
  const Json outside = {{"prompts", Json::array({Json{{"boxes", Json::array({Json::array({0, 600, 10, 700})})}}})}};
  httplib::MultipartFormDataItems items = {{"image", groceries(), "g.jpg", "image/jpeg"},
                                           {"request", outside.dump(), "", ""}};
  expect_error(c.Post("/v1/segment", items), 400, "lies entirely outside the 800x534 image");
}

TEST_F(ServerApi, SegmentWhileEncodingIs409) {
  httplib::Client c = server_->client();
  // The worker is held (--test-hold-file exists), so the session stays in 'encoding' until the file is removed:
  // the 409 is certain, not a race against the encode.
  struct Hold {
    Hold() { std::ofstream(hold_file()).put('\n'); }
    ~Hold() { release(); }
    void release() { std::remove(hold_file().c_str()); }  // an ASSERT that returns early must not leave it held
  } hold;
  auto created = create_session(c, groceries());
  ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "no answer");
  const std::string id = body_json(created)["session_id"];
  const Json segment = Json{{"prompts", Json::array({Json{{"text", "a"}}})}};
  for (int i = 0; i < 2; ++i) {  // still 409 a moment later: nothing ran
    auto r = post_json(c, "/v1/sessions/" + id + "/segment", segment);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 409) << r->body;
    const Json j = body_json(r);
    EXPECT_EQ(j["status"], "encoding");
    EXPECT_TRUE(j["progress"].is_number());
    EXPECT_NE(j["error"].get<std::string>().find("still encoding"), std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  hold.release();
  EXPECT_EQ(wait_ready(c, id).value("status", ""), "ready");
  auto r = post_json(c, "/v1/sessions/" + id + "/segment", segment);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST_F(ServerApi, OneShotSegment) {
  httplib::Client c = server_->client();
  const Json req = {{"prompts", Json::array({Json{{"text", "child"}}})}, {"threshold", 0.3}, {"semantic", true}};
  httplib::MultipartFormDataItems items = {{"image", street(), "street.jpg", "image/jpeg"},
                                           {"request", req.dump(), "", ""}};
  auto r = c.Post("/v1/segment", items);
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  const Json j = body_json(r);
  for (const char* k : {"decode", "queue_wait", "encode", "segment", "total"})
    EXPECT_TRUE(j["timings_ms"].contains(k)) << k;
  EXPECT_FALSE(j.contains("session_id"));
  std::vector<Prompt> prompts(1);
  prompts[0].text = "child";
  EXPECT_TRUE(same_json(stable_result(j), reference_result("images/test_image.jpg", prompts, 0.3f, /*semantic=*/true)));

  httplib::MultipartFormDataItems no_request = {{"image", street(), "street.jpg", "image/jpeg"}};
  expect_error(c.Post("/v1/segment", no_request), 400, "'request'");
  httplib::MultipartFormDataItems no_image = {{"request", req.dump(), "", ""}};
  expect_error(c.Post("/v1/segment", no_image), 400, "'image'");
  httplib::MultipartFormDataItems bad_request = {{"image", street(), "s.jpg", "image/jpeg"}, {"request", "{", "", ""}};
  expect_error(c.Post("/v1/segment", bad_request), 400, "malformed JSON");
  httplib::MultipartFormDataItems bad_image = {{"image", "GIF89a", "s.gif", "image/gif"},
                                               {"request", req.dump(), "", ""}};
  expect_error(c.Post("/v1/segment", bad_image), 400, "not a JPEG or PNG");
  expect_error(c.Post("/v1/segment", req.dump(), "application/json"), 400, "multipart/form-data");
}

// Limits, eviction, queue and auth need servers of their own.

TEST(ServerLimits, LeastRecentlyUsedEvictionByCount) {
  ServerProcess s({"--threads", "1", "--max-sessions", "2"});
  httplib::Client c = s.client();
  const std::string g = groceries();
  const std::string a = body_json(create_session(c, g))["session_id"];
  ASSERT_EQ(wait_ready(c, a)["status"], "ready");
  const std::string b = body_json(create_session(c, g))["session_id"];
  ASSERT_EQ(wait_ready(c, b)["status"], "ready");
  ASSERT_EQ(c.Get(("/v1/sessions/" + a).c_str())->status, 200);  // a is now the most recently used
  const std::string d = body_json(create_session(c, g))["session_id"];
  ASSERT_EQ(wait_ready(c, d)["status"], "ready");
  expect_error(c.Get(("/v1/sessions/" + b).c_str()), 404, "evicted");
  EXPECT_EQ(c.Get(("/v1/sessions/" + a).c_str())->status, 200);
  const Json h = body_json(c.Get("/health"));
  EXPECT_EQ(h["sessions"]["count"], 2);
  EXPECT_EQ(h["sessions"]["evicted"], 1);
  EXPECT_EQ(s.stop(), 0);
}

TEST(ServerLimits, EvictionByMemory) {
  // The tiny model's embedding is 1.66 MiB (64 x (72² + 36² + 18²) floats): 4 MiB hold two sessions, not three.
  ServerProcess s({"--threads", "1", "--max-sessions", "10", "--max-session-memory", "4"});
  httplib::Client c = s.client();
  const std::string g = groceries();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(body_json(create_session(c, g))["session_id"]);
    ASSERT_EQ(wait_ready(c, ids.back())["status"], "ready");
  }
  expect_error(c.Get(("/v1/sessions/" + ids[0]).c_str()), 404, "evicted");
  EXPECT_EQ(c.Get(("/v1/sessions/" + ids[1]).c_str())->status, 200);
  EXPECT_EQ(c.Get(("/v1/sessions/" + ids[2]).c_str())->status, 200);
  EXPECT_EQ(s.stop(), 0);
}

TEST(ServerLimits, PromptsGrowSessionsWithinTheBudget) {
  // What prompts keep counts too: the work they share per image (ImageState::prompt_cache_bytes: the tiny model's
  // pixel-decoder terms are 64 x (36² + 72²) floats, 1.58 MiB) and the kept raw outputs. A prompted session is then
  // ~4.3 MiB, so the budget is 6 MiB: the sessions stay within it as the second one grows.
  ServerProcess s({"--threads", "1", "--max-sessions", "10", "--max-session-memory", "6"});
  httplib::Client c = s.client();
  const std::string g = groceries();
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    ids.push_back(body_json(create_session(c, g))["session_id"]);
    ASSERT_EQ(wait_ready(c, ids.back())["status"], "ready");
  }
  const int64_t before = body_json(c.Get("/health"))["sessions"]["memory_bytes"].get<int64_t>();
  for (int i = 0; i < 6; ++i) {
    const Json req = {{"prompts", Json::array({Json{{"text", "thing " + std::to_string(i)}}})}};
    ASSERT_EQ(post_json(c, "/v1/sessions/" + ids[1] + "/segment", req)->status, 200);
    const Json h = body_json(c.Get("/health"));
    const int64_t now = h["sessions"]["memory_bytes"].get<int64_t>();
    EXPECT_LE(now, h["sessions"]["max_memory_bytes"].get<int64_t>()) << "prompt " << i;
    if (i == 0) {
      EXPECT_GE(now - before, int64_t{64} * (36 * 36 + 72 * 72) * 4) << "the prompt cache is not counted";
    }
  }
  EXPECT_EQ(s.stop(), 0);
}

TEST(ServerLimits, FullQueueIs503) {
  ServerProcess s({"--threads", "1", "--queue-size", "1", "--max-sessions", "100"});
  httplib::Client c = s.client();
  const std::string g = groceries();
  int created = 0, busy = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = create_session(c, g);
    ASSERT_TRUE(r);
    if (r->status == 201) {
      ++created;
    } else {
      expect_error(r, 503, "queue is full");
      EXPECT_EQ(r->get_header_value("Retry-After"), "1");
      ++busy;
    }
  }
  EXPECT_GE(created, 2);
  EXPECT_GE(busy, 1) << "12 uploads back to back never found the 1-slot queue full";
  EXPECT_EQ(body_json(c.Get("/health"))["sessions"]["count"], created);  // refused uploads keep nothing
  EXPECT_EQ(s.stop(), 0);
}

TEST(ServerAuth, ApiKeyAndCors) {
  ServerProcess s({"--threads", "1", "--api-key", "s3cret", "--cors-origin", "https://example.org"});
  EXPECT_NE(s.banner().find("API key required"), std::string::npos);
  httplib::Client c = s.client();
  auto r = c.Get("/health");
  expect_error(r, 401, "API key");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  expect_error(c.Get("/health", {{"Authorization", "Bearer wrong"}}), 401);
  expect_error(c.Get("/health", {{"Authorization", "Bearer s3cre"}}), 401);
  expect_error(c.Get("/health", {{"X-API-Key", "s3cret2"}}), 401);
  expect_error(c.Get("/health", {{"Authorization", "s3cret"}}), 401);
  EXPECT_EQ(c.Get("/health", {{"Authorization", "Bearer s3cret"}})->status, 200);
  EXPECT_EQ(c.Get("/health", {{"X-API-Key", "s3cret"}})->status, 200);
  expect_error(create_session(c, groceries()), 401);
  expect_error(c.Get("/v1/sessions/abc"), 401);
  expect_error(c.Delete("/v1/sessions/abc"), 401);
  expect_error(c.Post("/v1/segment", "x", "text/plain"), 401);
  r = create_session(c, groceries(), "g.jpg", {{"X-API-Key", "s3cret"}});
  ASSERT_TRUE(r && r->status == 201);
  // Public: the UI and the API description.
  EXPECT_EQ(c.Get("/")->status, 200);
  EXPECT_EQ(c.Get("/openapi.json")->status, 200);
  // CORS: the origin on every answer, preflights without the key.
  r = c.Get("/health", {{"X-API-Key", "s3cret"}});
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://example.org");
  r = c.Options("/v1/sessions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://example.org");
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Methods").find("DELETE"), std::string::npos);
  EXPECT_EQ(s.stop(), 0);
}

TEST(ServerStart, BadOptionsAndBusyPort) {
  // A port already taken: a clear error, exit 1.
  ServerProcess first({"--threads", "1"});
  // (`timeout`: a server that wrongly starts anyway fails the test instead of hanging it.)
  const std::string cmd = "timeout 60 " + server_binary() + " serve -m " + golden_path("tiny/sam3_random.pt") +
                          " --config " + golden_path("tiny/config.json") + " --port " + std::to_string(first.port()) +
                          " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())), std::string::npos) << out;
  // A missing model: exit 1 naming it.
  p = popen(("timeout 60 " + server_binary() + " serve -m /nonexistent/model.pt 2>&1").c_str(), "r");
  out.clear();
  while (fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 1);
  EXPECT_NE(out.find("/nonexistent/model.pt"), std::string::npos) << out;
  // A bad option value: usage error, exit 2.
  p = popen(("timeout 60 " + server_binary() + " serve -m x --port 70000 2>&1").c_str(), "r");
  while (fgets(buf, sizeof buf, p)) {
  }
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 2);
  EXPECT_EQ(first.stop(), 0);
}

}  // namespace
}  // namespace sam3::test

// The dataset output functions of the public API (sam3.h: batch_*), which `sam3 batch` and sam3.dask share: records,
// resuming (what counts as done), merging (a done record beats failures, duplicates from rerun tasks count once, a
// record cut short is ignored), run.json checks, and errors naming the file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sam3/sam3.h"

namespace sam3 {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("sam3_batch_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// One 2x3 image result: prompt 0 with one instance (mask pixels (0,0) and (1,2)), prompt 1 with none.
SegmentResult result_2x3() {
  SegmentResult r;
  r.image_width = 3;
  r.image_height = 2;
  r.prompts.resize(2);
  Instance in;
  in.score = 0.75f;
  in.box[0] = 0.5f;
  in.box[1] = 1;
  in.box[2] = 2.5f;
  in.box[3] = 2;
  const uint8_t bitmap[] = {1, 0, 0, 0, 0, 1};
  in.mask = Mask::from_bitmap(bitmap, 3, 2);
  r.prompts[0].instances.push_back(in);
  return r;
}

BatchRun run_of(float threshold = 0.5f) {
  BatchRun run;
  run.config = "tiny";
  run.threshold = threshold;
  run.categories = {"dog", "cat"};
  return run;
}

TEST(BatchOutput, ImageRecordIsCocoWithCategoryPerPrompt) {
  const std::string rec = batch_image_record(result_2x3(), 5, "a/b.jpg", {1, 2});
  EXPECT_EQ(rec,
            "{\"image\":{\"id\":5,\"file_name\":\"a/b.jpg\",\"width\":3,\"height\":2},\"annotations\":["
            "{\"image_id\":5,\"category_id\":1,\"bbox\":[0.5,1.0,2.0,1.0],\"score\":0.75,\"area\":2,"
            "\"segmentation\":{\"size\":[2,3],\"counts\":\"" +
                mask_to_coco_rle(result_2x3().prompts[0].instances[0].mask) + "\"}}]}");
  EXPECT_THROW(batch_image_record(result_2x3(), 5, "a/b.jpg", {1}), std::runtime_error);
  EXPECT_EQ(batch_failure_record(2, "x.jpg", "bad \"data\""),
            "{\"failed\":{\"id\":2,\"file_name\":\"x.jpg\",\"error\":\"bad \\\"data\\\"\"}}");
}

TEST(BatchOutput, MergeResumeAndDuplicates) {
  TempDir t;
  const std::string dir = t.path.string();
  const std::vector<std::string> files = {"a.jpg", "b.jpg", "c.jpg", "d.jpg"};
  batch_prepare_dir(dir, run_of());
  const std::string a = batch_image_record(result_2x3(), 1, "a.jpg", {1, 2});
  const std::string c = batch_image_record(result_2x3(), 3, "c.jpg", {2, 1});
  // records.jsonl: a done; b failed; c failed then done; then a record cut short (d) by a crash.
  write(t.path / "records.jsonl", a + "\n" + batch_failure_record(2, "b.jpg", "corrupt") + "\n" +
                                      batch_failure_record(3, "c.jpg", "first try") + "\n" + c + "\n" +
                                      batch_image_record(result_2x3(), 4, "d.jpg", {1, 2}).substr(0, 30));
  // A shard written twice for c (a task run again after its worker died), and a later failure of b.
  write(t.path / "shards" / "part-1.jsonl", c + "\n" + batch_failure_record(2, "b.jpg", "still corrupt") + "\n");
  write(t.path / "shards" / "part-2.jsonl", c + "\n");
  EXPECT_EQ(batch_finished(dir, files), (std::vector<uint8_t>{1, 0, 1, 0}));

  const BatchSummary s = batch_merge(dir, run_of(), files);
  EXPECT_EQ(s.images, 4);
  EXPECT_EQ(s.done, 2);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.annotations, 2);  // c counted once
  const std::string results = read(t.path / "results.json");
  EXPECT_EQ(results.find("\"image_id\":1,\"category_id\":1"), 3u);  // "[\n{" first
  EXPECT_NE(results.find("\"image_id\":3,\"category_id\":2"), std::string::npos);
  const std::string failed = read(t.path / "failed.json");
  EXPECT_NE(failed.find("\"still corrupt\""), std::string::npos) << failed;  // the last failure
  EXPECT_EQ(failed.find("first try"), std::string::npos) << failed;          // c is done
  const std::string images = read(t.path / "images.json");
  EXPECT_NE(images.find("{\"id\":1,\"name\":\"dog\",\"supercategory\":\"\"}"), std::string::npos) << images;
  EXPECT_NE(images.find("{\"id\":3,\"file_name\":\"c.jpg\",\"width\":3,\"height\":2}"), std::string::npos);
  EXPECT_EQ(images.find("b.jpg"), std::string::npos);
  EXPECT_FALSE(fs::exists(t.path / "results.json.tmp"));
}

TEST(BatchOutput, RefusesAnotherRunOrOtherInputs) {
  TempDir t;
  const std::string dir = t.path.string();
  batch_prepare_dir(dir, run_of(0.5f));
  batch_prepare_dir(dir, run_of(0.5f));  // the same run: fine
  try {
    batch_prepare_dir(dir, run_of(0.25f));
    FAIL() << "another threshold accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another threshold"), std::string::npos) << e.what();
  }
  write(t.path / "records.jsonl", batch_image_record(result_2x3(), 2, "b.jpg", {1, 2}) + "\n");
  EXPECT_THROW(batch_finished(dir, {"a.jpg"}), std::runtime_error);           // id 2 of 1 image
  EXPECT_THROW(batch_finished(dir, {"a.jpg", "z.jpg"}), std::runtime_error);  // id 2 is another file
  write(t.path / "records.jsonl", "{\"neither\": 1}\n");
  try {
    batch_merge(dir, run_of(), {"a.jpg"});
    FAIL() << "a malformed record accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("records.jsonl:1: not a batch record"), std::string::npos) << e.what();
  }
}

TEST(BatchOutput, ListImageFilesErrors) {
  TempDir t;
  EXPECT_THROW(list_image_files({(t.path / "nope").string()}), std::runtime_error);
}

}  // namespace
}  // namespace sam3

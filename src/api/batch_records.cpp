// sam3.cpp — a batch run's output directory (sam3.h: batch_prepare_dir, batch_image_record, batch_failure_record,
// batch_finished) and the record files' reader shared with batch_merge.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "api/batch_files.h"
#include "core/error.h"
#include "sam3/sam3.h"

namespace sam3 {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = "sam3.batch/1";

Json run_to_json(const BatchRun& run) {
  Json cats = Json::array();
  for (size_t i = 0; i < run.categories.size(); ++i)
    cats.push_back(Json{{"id", static_cast<int64_t>(i + 1)}, {"name", run.categories[i]}});
  return Json{{"schema", kSchema},
              {"config", run.config},
              {"threshold", json_float(run.threshold)},
              {"categories", std::move(cats)},
              {"box_file_digest", run.box_file_digest},
              {"precision", run.precision}};
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::string json_round_trip(const std::string& s) { return Json::parse(dump(Json(s))).get<std::string>(); }

void check_record_matches(const BatchRecordHead& head, const std::vector<std::string>& image_files,
                          const std::string& where) {
  if (head.id < 1 || head.id > static_cast<int64_t>(image_files.size()))
    throw Error(where + ": a record of image id " + std::to_string(head.id) + ", but the inputs have " +
                std::to_string(image_files.size()) + " images: this directory holds the results of other inputs");
  const std::string& want = image_files[static_cast<size_t>(head.id - 1)];
  if (head.file_name != want && head.file_name != json_round_trip(want))
    throw Error(where + ": image id " + std::to_string(head.id) + " is '" + head.file_name + "' there but '" + want +
                "' in the inputs: this directory holds the results of other inputs (or the inputs changed)");
}

std::vector<std::string> batch_record_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_regular_file(fs::path(dir) / "records.jsonl", ec))
    files.push_back((fs::path(dir) / "records.jsonl").string());
  std::vector<std::string> shards;
  for (fs::directory_iterator it(fs::path(dir) / "shards", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".jsonl") shards.push_back(it->path().string());
  std::sort(shards.begin(), shards.end());
  files.insert(files.end(), shards.begin(), shards.end());
  return files;
}

void for_each_batch_record(const std::vector<std::string>& files,
                           const std::function<void(size_t, uint64_t, const Json&, const BatchRecordHead&)>& fn) {
  for (size_t fi = 0; fi < files.size(); ++fi) {
    std::ifstream f(files[fi], std::ios::binary);
    if (!f) throw Error("cannot read '" + files[fi] + "'");
    std::string line;
    uint64_t offset = 0;
    for (int64_t n = 1; std::getline(f, line); ++n) {
      const uint64_t at = offset;
      offset += line.size() + 1;
      if (f.eof()) break;  // no '\n': a line cut short by a crash
      const std::string where = files[fi] + ":" + std::to_string(n);
      BatchRecordHead head;
      Json j;
      try {
        j = Json::parse(line);
        const bool failed = j.contains("failed");
        const Json& h = failed ? j.at("failed") : j.at("image");
        head.id = h.at("id").get<int64_t>();
        head.file_name = h.at("file_name").get<std::string>();
        head.failed = failed;
      } catch (const nlohmann::json::exception& e) {
        throw Error(where + ": not a batch record (" + e.what() + ")");
      }
      fn(fi, at, j, head);
    }
  }
}

void batch_prepare_dir(const std::string& dir, const BatchRun& run) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "shards", ec);
  if (ec) throw Error("output directory '" + dir + "': " + ec.message());
  const std::string path = (fs::path(dir) / "run.json").string();
  const Json want = run_to_json(run);
  std::ifstream in(path);
  if (!in) {
    AtomicFile f(path);
    f.write(want.dump(1) + "\n");
    f.commit();
    return;
  }
  Json have;
  try {
    have = Json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": not a run description (" + e.what() + ")");
  }
  for (const auto& [key, value] : want.items()) {
    if (!have.contains(key) || have[key] != value)
      throw Error(path + ": this directory holds a run with another " + key + " (" +
                  (have.contains(key) ? have[key].dump() : std::string("none")) + " there, " + value.dump() +
                  " now); use another output directory, or delete this one to start again");
  }
}

std::string batch_image_record(const SegmentResult& result, int64_t image_id, const std::string& file_name,
                               const std::vector<int64_t>& category_ids) {
  if (category_ids.size() != result.prompts.size())
    throw Error("batch_image_record: " + std::to_string(category_ids.size()) + " category ids for " +
                std::to_string(result.prompts.size()) + " prompts");
  Json anns = Json::array();
  for (size_t p = 0; p < result.prompts.size(); ++p) {
    for (const Instance& in : result.prompts[p].instances) {
      Json a{{"image_id", image_id},
             {"category_id", category_ids[p]},
             {"bbox", Json::array({json_float(in.box[0]), json_float(in.box[1]), json_float(in.box[2] - in.box[0]),
                                   json_float(in.box[3] - in.box[1])})},
             {"score", json_float(in.score)}};
      if (!in.mask.empty()) {
        a["area"] = in.mask.area();
        a["segmentation"] = mask_to_json(in.mask);
      }
      anns.push_back(std::move(a));
    }
  }
  const Json image{
      {"id", image_id}, {"file_name", file_name}, {"width", result.image_width}, {"height", result.image_height}};
  return dump(Json{{"image", image}, {"annotations", std::move(anns)}});
}

std::string batch_failure_record(int64_t image_id, const std::string& file_name, const std::string& error) {
  return dump(Json{{"failed", Json{{"id", image_id}, {"file_name", file_name}, {"error", error}}}});
}

std::vector<uint8_t> batch_finished(const std::string& dir, const std::vector<std::string>& image_files) {
  std::vector<uint8_t> done(image_files.size(), 0);
  const std::vector<std::string> files = batch_record_files(dir);
  for_each_batch_record(files, [&](size_t fi, uint64_t, const Json&, const BatchRecordHead& head) {
    check_record_matches(head, image_files, files[fi]);
    if (!head.failed) done[static_cast<size_t>(head.id - 1)] = 1;
  });
  return done;
}

}  // namespace sam3

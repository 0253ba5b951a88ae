// sam3.cpp — merging a batch run's records into its COCO files (sam3.h: batch_merge). Two passes over the records,
// so that memory stays small for millions of images: first where each image's record is, then the files in image id
// order.
#include <filesystem>
#include <fstream>
#include <memory>

#include "api/batch_files.h"
#include "core/error.h"
#include "sam3/sam3.h"

namespace sam3 {

namespace {

namespace fs = std::filesystem;

struct Where {
  int64_t file = -1;  // -1: no record
  uint64_t offset = 0;
  bool failed = false;
};

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json read_record(std::ifstream& f, const std::string& name, uint64_t offset) {
  f.clear();
  f.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  if (!std::getline(f, line)) throw Error("cannot read back a record of '" + name + "'");
  return Json::parse(line);
}

}  // namespace

BatchSummary batch_merge(const std::string& dir, const BatchRun& run, const std::vector<std::string>& image_files) {
  const std::vector<std::string> files = batch_record_files(dir);
  std::vector<Where> where(image_files.size());
  for_each_batch_record(files, [&](size_t fi, uint64_t offset, const Json&, const BatchRecordHead& head) {
    check_record_matches(head, image_files, files[fi]);
    Where& w = where[static_cast<size_t>(head.id - 1)];
    if (w.file < 0 || w.failed)  // a done record beats failures; the first done one, the last failure
      w = Where{static_cast<int64_t>(fi), offset, head.failed};
  });

  std::vector<std::ifstream> readers;
  for (const std::string& f : files) readers.emplace_back(f, std::ios::binary);

  BatchSummary sum;
  sum.images = static_cast<int64_t>(image_files.size());
  const fs::path d(dir);
  AtomicFile results((d / "results.json").string()), images((d / "images.json").string()),
      failed((d / "failed.json").string());
  Json cats = Json::array();
  for (size_t i = 0; i < run.categories.size(); ++i)
    cats.push_back(Json{{"id", static_cast<int64_t>(i + 1)}, {"name", run.categories[i]}, {"supercategory", ""}});
  const Json info{{"description", "SAM 3 results (sam3.cpp)"},
                  {"schema", "sam3.batch/1"},
                  {"config", run.config},
                  {"threshold", json_float(run.threshold)}};
  images.write("{\"info\": " + dump(info) + ",\n \"categories\": " + dump(cats) + ",\n \"annotations\": [],\n" +
               " \"images\": [");
  results.write("[");
  failed.write("[");
  bool first_ann = true, first_img = true, first_fail = true;
  for (size_t i = 0; i < where.size(); ++i) {
    const Where& w = where[i];
    if (w.file < 0) continue;
    const size_t fi = static_cast<size_t>(w.file);
    const Json rec = read_record(readers[fi], files[fi], w.offset);
    if (w.failed) {
      failed.write(std::string(first_fail ? "\n" : ",\n") + dump(rec.at("failed")));
      first_fail = false;
      ++sum.failed;
      continue;
    }
    images.write(std::string(first_img ? "\n" : ",\n") + dump(rec.at("image")));
    first_img = false;
    ++sum.done;
    for (const Json& a : rec.at("annotations")) {
      results.write(std::string(first_ann ? "\n" : ",\n") + dump(a));
      first_ann = false;
      ++sum.annotations;
    }
  }
  results.write(first_ann ? "]\n" : "\n]\n");
  images.write(first_img ? "]}\n" : "\n]}\n");
  failed.write(first_fail ? "]\n" : "\n]\n");
  results.commit();
  images.commit();
  failed.commit();
  return sum;
}

}  // namespace sam3

// sam3.cpp — the dataset functions of the public API for Python: list_image_files, and the COCO output directory
// functions (sam3.h: batch_*) that sam3.dask shares with `sam3 batch`, so that both write the same files.
#include <utility>
#include <vector>

#include "bind.h"

namespace sam3::python {

namespace {

BatchRun make_run(const std::string& config, const std::string& precision, float threshold,
                  const std::vector<std::string>& categories) {
  BatchRun run;
  run.config = config;
  run.precision = precision;
  run.threshold = threshold;
  run.categories = categories;
  return run;
}

}  // namespace

void bind_batch(py::module_& m) {
  m.def(
      "list_image_files",
      [](const std::vector<std::string>& inputs) {
        py::gil_scoped_release release;
        return list_image_files(inputs);
      },
      py::arg("inputs"),
      "The image files that `inputs` name, as `sam3 batch -i` reads them: a directory gives its .jpg/.jpeg/.png "
      "files recursively, sorted; an image path is itself; any other file is a list (one path a line, relative to "
      "the list's directory). Image ids are 1, 2, ... in the order returned.");
  m.def(
      "_batch_prepare_dir",
      [](const std::string& dir, const std::string& config, const std::string& precision, float threshold,
         const std::vector<std::string>& cats) { batch_prepare_dir(dir, make_run(config, precision, threshold, cats)); },
      py::arg("dir"), py::arg("config"), py::arg("precision"), py::arg("threshold"), py::arg("categories"),
      "Creates dir (and dir/shards) and writes run.json, or checks the one there (RuntimeError if it differs).");
  m.def("_batch_failure_record", &batch_failure_record, py::arg("image_id"), py::arg("file_name"), py::arg("error"),
        "The record (one JSON line) of an image that failed.");
  m.def(
      "_batch_finished",
      [](const std::string& dir, const std::vector<std::string>& files) {
        std::vector<uint8_t> done;
        {
          py::gil_scoped_release release;
          done = batch_finished(dir, files);
        }
        std::vector<bool> out(done.begin(), done.end());
        return out;
      },
      py::arg("dir"), py::arg("files"), "Per image of files: True when dir's records hold it done.");
  m.def(
      "_batch_merge",
      [](const std::string& dir, const std::string& config, const std::string& precision, float threshold,
         const std::vector<std::string>& cats, const std::vector<std::string>& files) {
        BatchSummary s;
        {
          py::gil_scoped_release release;
          s = batch_merge(dir, make_run(config, precision, threshold, cats), files);
        }
        py::dict d;
        d["images"] = s.images;
        d["done"] = s.done;
        d["failed"] = s.failed;
        d["annotations"] = s.annotations;
        return d;
      },
      py::arg("dir"), py::arg("config"), py::arg("precision"), py::arg("threshold"), py::arg("categories"),
      py::arg("files"),
      "Merges dir's records into results.json, images.json and failed.json; returns the counts.");
}

}  // namespace sam3::python

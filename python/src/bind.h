// sam3.cpp — the Python module sam3._sam3 (pybind11): what its binding files share. Only the public API
// (include/sam3/sam3.h) is used.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <string>

#include "sam3/sam3.h"

namespace sam3::python {

namespace py = pybind11;

// sam3.Model: the loaded model and the thread count its calls use.
struct PyModel {
  std::shared_ptr<const Model> model;
  std::string path;
  std::string dtype;
  int threads = 0;
};

// What the picks on one embedding share: an image state holding the interactive features that the first pick
// computed (the SAM2 neck), so that the next picks on the same image skip the neck. Made by the first Model.pick on
// the embedding, for that model (another model replaces it); one pick at a time (the mutex, taken without the GIL).
struct PickCache {
  std::mutex mutex;
  std::shared_ptr<const Model> model;
  std::unique_ptr<ImageState> state;
};

// sam3.ImageEmbedding: the embedding and its pick cache (which lives as long as the Python object).
struct PyEmbedding {
  ImageEmbedding emb;
  std::shared_ptr<PickCache> pick = std::make_shared<PickCache>();
};

// sam3.Segmentation: one segment() call's results, one PromptResult per prompt.
struct PySegmentation {
  SegmentResult result;
  std::string masks;  // how PromptResult.masks comes out: "numpy", "rle" or "none"
};

py::class_<PyModel> bind_model(py::module_& m);  // bind_model.cpp: Model, ImageEmbedding
void bind_results(py::module_& m);  // bind_results.cpp: Segmentation, PromptResult
void bind_batch(py::module_& m);    // bind_batch.cpp: list_image_files and the COCO output functions
void bind_pick(py::module_& m, py::class_<PyModel>& model);  // bind_pick.cpp: Model.pick, PickResult

// {"size": [h, w], "counts": "..."}
py::dict mask_to_rle_dict(const Mask& mask);

}  // namespace sam3::python

// sam3.cpp — sam3.Segmentation (one segment() call) and sam3.PromptResult (one prompt's instances) as numpy arrays
// or COCO RLE, plus the JSON document of `sam3 segment -o` and the COCO record of `sam3 batch`.
#include <cstring>
#include <utility>
#include <vector>

#include "bind.h"

namespace sam3::python {

namespace {

// A view of prompt `i` of a Segmentation (which it keeps alive).
struct PyPrompt {
  std::shared_ptr<const PySegmentation> parent;
  size_t i = 0;
  const PromptResult& r() const { return parent->result.prompts[i]; }
};

py::array_t<bool> masks_array(const std::vector<const Mask*>& masks, int H, int W) {
  py::array_t<bool> a(
      {static_cast<py::ssize_t>(masks.size()), static_cast<py::ssize_t>(H), static_cast<py::ssize_t>(W)});
  // numpy's bool is one byte, 0 or 1: each mask is decoded from its runs straight into the array.
  uint8_t* out = reinterpret_cast<uint8_t*>(a.mutable_data());
  const size_t n = static_cast<size_t>(H) * static_cast<size_t>(W);
  for (size_t k = 0; k < masks.size(); ++k) masks[k]->to_bitmap(out + k * n);
  return a;
}

py::object masks_of(const PyPrompt& p) {
  const PromptResult& r = p.r();
  if (p.parent->masks == "none") return py::none();
  if (p.parent->masks == "rle") {
    py::list l;
    for (const Instance& in : r.instances) l.append(mask_to_rle_dict(in.mask));
    return std::move(l);
  }
  std::vector<const Mask*> ms;
  for (const Instance& in : r.instances) ms.push_back(&in.mask);
  return masks_array(ms, r.image_height, r.image_width);
}

py::object semantic_of(const PyPrompt& p) {
  const PromptResult& r = p.r();
  if (r.semantic.empty()) return py::none();
  if (p.parent->masks == "rle") return mask_to_rle_dict(r.semantic);
  return masks_array({&r.semantic}, r.image_height, r.image_width)[py::int_(0)];
}

py::dict timings_of(const PromptTimings& t) {
  py::dict d;
  d["text"] = t.text_ms;
  d["geometry"] = t.geometry_ms;
  d["fusion_encoder"] = t.fusion_ms;
  d["decoder"] = t.decoder_ms;
  d["scoring"] = t.scoring_ms;
  d["mask_head"] = t.mask_head_ms;
  d["postprocess"] = t.postprocess_ms;
  d["total"] = t.total_ms;
  return d;
}

std::vector<int64_t> default_categories(const PySegmentation& s, const py::object& ids) {
  if (!ids.is_none()) return ids.cast<std::vector<int64_t>>();
  std::vector<int64_t> c;
  for (size_t i = 0; i < s.result.prompts.size(); ++i) c.push_back(static_cast<int64_t>(i + 1));
  return c;
}

}  // namespace

py::dict mask_to_rle_dict(const Mask& mask) {
  py::dict d;
  py::list size;
  size.append(mask.height);
  size.append(mask.width);
  d["size"] = size;
  d["counts"] = mask_to_coco_rle(mask);
  return d;
}

void bind_results(py::module_& m) {
  py::class_<PyPrompt>(m, "PromptResult",
                       "One prompt's result: the instances with score > threshold, in the model's query order.")
      .def_property_readonly(
          "text", [](const PyPrompt& p) { return p.r().prompt.text; },
          "The prompt's text as given ('' for boxes only).")
      .def_property_readonly(
          "text_used", [](const PyPrompt& p) { return p.r().text_used; },
          "The text the model read ('visual' for a boxes-only prompt).")
      .def_property_readonly("threshold", [](const PyPrompt& p) { return p.r().threshold; })
      .def_property_readonly("image_width", [](const PyPrompt& p) { return p.r().image_width; })
      .def_property_readonly("image_height", [](const PyPrompt& p) { return p.r().image_height; })
      .def_property_readonly(
          "scores",
          [](const PyPrompt& p) {
            py::array_t<float> a(static_cast<py::ssize_t>(p.r().instances.size()));
            for (size_t k = 0; k < p.r().instances.size(); ++k) a.mutable_data()[k] = p.r().instances[k].score;
            return a;
          },
          "float32 (N,): each instance's score.")
      .def_property_readonly(
          "boxes",
          [](const PyPrompt& p) {
            const auto& in = p.r().instances;
            py::array_t<float> a({static_cast<py::ssize_t>(in.size()), py::ssize_t{4}});
            for (size_t k = 0; k < in.size(); ++k) std::memcpy(a.mutable_data() + 4 * k, in[k].box, 4 * sizeof(float));
            return a;
          },
          "float32 (N, 4): boxes x0, y0, x1, y1 in pixels of the original image (not clipped).")
      .def_property_readonly(
          "queries",
          [](const PyPrompt& p) {
            py::array_t<int64_t> a(static_cast<py::ssize_t>(p.r().instances.size()));
            for (size_t k = 0; k < p.r().instances.size(); ++k) a.mutable_data()[k] = p.r().instances[k].query;
            return a;
          },
          "int64 (N,): the decoder query of each instance.")
      .def_property_readonly("masks", &masks_of,
                             "The instance masks: bool (N, H, W) for masks='numpy', a list of COCO RLE dicts "
                             "{'size': [H, W], 'counts': str} for masks='rle', None for masks='none'.")
      .def_property_readonly("semantic", &semantic_of,
                             "The semantic mask: bool (H, W), or a COCO RLE dict with masks='rle'; None when not "
                             "computed.")
      .def_property_readonly(
          "probs",
          [](const PyPrompt& p) {
            py::array_t<float> a(static_cast<py::ssize_t>(p.r().probs.size()));
            std::memcpy(a.mutable_data(), p.r().probs.data(), p.r().probs.size() * sizeof(float));
            return a;
          },
          "float32 (Q,): the score of every query (instances are those above the threshold).")
      .def_property_readonly(
          "timings_ms", [](const PyPrompt& p) { return timings_of(p.r().timings); }, "Wall time of each stage, ms.")
      .def("__len__", [](const PyPrompt& p) { return p.r().instances.size(); })
      .def("__repr__", [](const PyPrompt& p) {
        return "<sam3.PromptResult text='" + p.r().text_used + "' instances=" + std::to_string(p.r().instances.size()) +
               ">";
      });

  py::class_<PySegmentation, std::shared_ptr<PySegmentation>>(m, "Segmentation",
                                                              "The results of one Model.segment call: a sequence "
                                                              "of PromptResult, one per prompt, in order.")
      .def("__len__", [](const PySegmentation& s) { return s.result.prompts.size(); })
      .def("__getitem__",
           [](const std::shared_ptr<PySegmentation>& s, py::ssize_t i) {
             const auto n = static_cast<py::ssize_t>(s->result.prompts.size());
             if (i < 0) i += n;
             if (i < 0 || i >= n) throw py::index_error("prompt index out of range");
             return PyPrompt{s, static_cast<size_t>(i)};
           })
      .def_property_readonly("image_width", [](const PySegmentation& s) { return s.result.image_width; })
      .def_property_readonly("image_height", [](const PySegmentation& s) { return s.result.image_height; })
      .def_property_readonly("total_ms", [](const PySegmentation& s) { return s.result.total_ms; })
      .def(
          "to_json",
          [](const PySegmentation& s, int indent) {
            ResultJsonParams jp = result_json_default_params();
            jp.indent = indent;
            return result_to_json(s.result, jp);
          },
          py::arg("indent") = -1,
          "The result document of `sam3 segment -o` (schema sam3.segment/1, docs/segment.md) as JSON text.")
      .def(
          "coco_record",
          [](const PySegmentation& s, int64_t image_id, const std::string& file_name, const py::object& ids) {
            return batch_image_record(s.result, image_id, file_name, default_categories(s, ids));
          },
          py::arg("image_id"), py::arg("file_name"), py::arg("category_ids") = py::none(),
          "This image's record as `sam3 batch` writes it (one JSON line: the COCO image and its annotations); "
          "category_ids: one per prompt (default 1, 2, ...).");
}

}  // namespace sam3::python

// sam3.cpp — Model.pick (interactive single-object segmentation from clicks, a box and / or a previous pick's
// low-res logits; docs/pick.md) and sam3.PickResult, numpy in and out. The GIL is released while the library computes.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "bind.h"

namespace sam3::python {

namespace {

struct PyPick {
  PickResult r;
};

std::string shape_of(const py::array& a) {
  return py::str(py::tuple(py::cast(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()))));
}

// points: (N, 2) x, y in pixels of the original image (a sequence of pairs or an array); labels: N values 1 / True
// (positive) or 0 / False (negative), all positive when None.
std::vector<PickPoint> to_points(const py::object& points, const py::object& labels) {
  std::vector<PickPoint> out;
  if (points.is_none()) {
    if (!labels.is_none()) throw py::value_error("labels: given without points");
    return out;
  }
  const auto xy = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(points);
  if (!xy) throw py::type_error("points: expected a sequence of (x, y) pairs or an (N, 2) array");
  const bool empty = xy.size() == 0 && xy.ndim() <= 2;
  if (!empty && (xy.ndim() != 2 || xy.shape(1) != 2))
    throw py::value_error("points: expected (x, y) pairs, an (N, 2) array; got shape " + shape_of(xy));
  const py::ssize_t n = empty ? 0 : xy.shape(0);
  std::vector<bool> positive(static_cast<size_t>(n), true);
  if (!labels.is_none()) {
    const auto l = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(labels);
    if (!l || l.ndim() > 1 || l.size() != n)
      throw py::value_error("labels: expected " + std::to_string(n) + " values (one per point), 1 / True for a "
                            "positive click, 0 / False for a negative one");
    for (py::ssize_t i = 0; i < n; ++i) {
      const double v = l.data()[i];
      if (v != 0 && v != 1)
        throw py::value_error("labels[" + std::to_string(i) + "]: expected 1 (positive) or 0 (negative), got " +
                              std::string(py::str(py::float_(v))));
      positive[static_cast<size_t>(i)] = v == 1;
    }
  }
  for (py::ssize_t i = 0; i < n; ++i)
    out.push_back({static_cast<float>(xy.data()[2 * i]), static_cast<float>(xy.data()[2 * i + 1]),
                   positive[static_cast<size_t>(i)]});
  return out;
}

std::shared_ptr<PyPick> pick(const PyModel& self, PyEmbedding& pe, const py::object& points, const py::object& labels,
                             const py::object& box, const py::object& mask_logits, const py::object& multimask,
                             bool masks) {
  if (pe.emb.empty()) throw py::value_error("pick: the embedding is empty");
  PickPrompt p;
  p.points = to_points(points, labels);
  if (!box.is_none()) {
    const auto b = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(box);
    if (!b || b.size() != 4 || b.ndim() > 1)
      throw py::value_error("box: expected [x0, y0, x1, y1] (pixels of the original image)");
    p.has_box = true;
    for (int k = 0; k < 4; ++k) p.box[k] = static_cast<float>(b.data()[k]);
  }
  if (!mask_logits.is_none()) {
    const auto m = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(mask_logits);
    if (!m || m.ndim() < 1 || m.ndim() > 3 || (m.ndim() == 3 && m.shape(0) != 1))
      throw py::value_error("mask_logits: expected one mask's low-res logits, (L, L) (PickResult.low_res_logits[k])");
    p.mask_logits.assign(m.data(), m.data() + m.size());
  }
  if (!multimask.is_none()) p.multimask = multimask.cast<bool>() ? 1 : 0;
  PickParams pp = pick_default_params();
  pp.n_threads = self.threads;
  pp.masks = masks;
  auto out = std::make_shared<PyPick>();
  std::shared_ptr<PickCache> cache = pe.pick;
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(cache->mutex);
  if (!cache->state || cache->model != self.model) {
    // (sam3::pick's own error for a model without the interactive weights names the weights it needs.)
    auto state = std::make_unique<ImageState>(self.model);
    state->set_embedding(pe.emb);
    cache->state = std::move(state);
    cache->model = self.model;
  }
  struct ReleaseScratch {  // the cached state keeps the interactive features, not the decoder's scratch memory
    ImageState& st;
    ~ReleaseScratch() { st.release_scratch(); }
  } release_scratch{*cache->state};
  out->r = sam3::pick(*cache->state, p, pp);
  return out;
}

template <typename T>
py::array_t<T> array(std::vector<py::ssize_t> shape) {
  return py::array_t<T>(std::move(shape));
}

}  // namespace

void bind_pick(py::module_& m, py::class_<PyModel>& model) {
  py::class_<PyPick, std::shared_ptr<PyPick>>(
      m, "PickResult",
      "One Model.pick: the object's candidate masks (3 for a single click, else 1; in the model's order) with their "
      "predicted IoUs, and the low-res logits that refine it in the next pick.")
      .def("__len__", [](const PyPick& p) { return p.r.masks.size(); })
      .def_property_readonly(
          "masks",
          [](const PyPick& p) -> py::object {
            const PickResult& r = p.r;
            if (r.masks.empty() || r.masks[0].mask.empty()) return py::none();
            const py::ssize_t H = r.image_height, W = r.image_width;
            auto a = array<bool>({static_cast<py::ssize_t>(r.masks.size()), H, W});
            uint8_t* d = reinterpret_cast<uint8_t*>(a.mutable_data());  // numpy bool: one byte, 0 or 1
            const size_t n = static_cast<size_t>(H * W);
            for (size_t k = 0; k < r.masks.size(); ++k) r.masks[k].mask.to_bitmap(d + k * n);
            return std::move(a);
          },
          "bool (K, H, W): the masks at the image's size (None with masks=False).")
      .def_property_readonly(
          "ious",
          [](const PyPick& p) {
            auto a = array<float>({static_cast<py::ssize_t>(p.r.masks.size())});
            for (size_t k = 0; k < p.r.masks.size(); ++k) a.mutable_data()[k] = p.r.masks[k].iou;
            return a;
          },
          "float32 (K,): each mask's predicted IoU (its score).")
      .def_property_readonly(
          "boxes",
          [](const PyPick& p) {
            auto a = array<float>({static_cast<py::ssize_t>(p.r.masks.size()), 4});
            for (size_t k = 0; k < p.r.masks.size(); ++k)
              std::memcpy(a.mutable_data() + 4 * k, p.r.masks[k].box, 4 * sizeof(float));
            return a;
          },
          "float32 (K, 4): the tight box x0, y0, x1, y1 of each mask's pixels (x1, y1 exclusive; zeros when empty).")
      .def_property_readonly(
          "areas",
          [](const PyPick& p) {
            auto a = array<int64_t>({static_cast<py::ssize_t>(p.r.masks.size())});
            for (size_t k = 0; k < p.r.masks.size(); ++k) a.mutable_data()[k] = p.r.masks[k].area;
            return a;
          },
          "int64 (K,): each mask's pixel count.")
      .def_property_readonly(
          "low_res_logits",
          [](const PyPick& p) {
            const py::ssize_t L = p.r.low_res_size;
            auto a = array<float>({static_cast<py::ssize_t>(p.r.masks.size()), L, L});
            for (size_t k = 0; k < p.r.masks.size(); ++k)
              std::memcpy(a.mutable_data() + static_cast<py::ssize_t>(k) * L * L, p.r.masks[k].low_res_logits.data(),
                          static_cast<size_t>(L * L) * sizeof(float));
            return a;
          },
          "float32 (K, L, L): each mask's low-res logits (clamped to +-32; L = 288 for SAM 3). Pass one, "
          "low_res_logits[k], as mask_logits to refine that mask in the next pick.")
      .def_property_readonly(
          "best", [](const PyPick& p) { return p.r.best(); }, "Index of the mask with the highest predicted IoU.")
      .def_property_readonly(
          "multimask", [](const PyPick& p) { return p.r.multimask; }, "Whether 3 candidates were made.")
      .def_property_readonly(
          "object_score", [](const PyPick& p) { return 1.0 / (1.0 + std::exp(-static_cast<double>(p.r.object_score_logit))); },
          "Sigmoid of the object-score logit: > 0.5 when the model thinks an object is there.")
      .def_property_readonly(
          "object_score_logit", [](const PyPick& p) { return p.r.object_score_logit; }, "The object-score logit.")
      .def_property_readonly("image_width", [](const PyPick& p) { return p.r.image_width; })
      .def_property_readonly("image_height", [](const PyPick& p) { return p.r.image_height; })
      .def_property_readonly(
          "low_res_size", [](const PyPick& p) { return p.r.low_res_size; }, "L, the side of the low-res logits.")
      .def_property_readonly(
          "timings_ms",
          [](const PyPick& p) {
            py::dict d;
            d["neck"] = p.r.timings.neck_ms;
            d["decoder"] = p.r.timings.decoder_ms;
            d["postprocess"] = p.r.timings.postprocess_ms;
            d["total"] = p.r.timings.total_ms;
            return d;
          },
          "Wall time of each stage, ms; 'neck' (the SAM2 neck) is 0 except on the first pick of an embedding.")
      .def(
          "to_json",
          [](const PyPick& p, int indent) {
            ResultJsonParams jp = result_json_default_params();
            jp.indent = indent;
            return pick_result_to_json(p.r, jp);
          },
          py::arg("indent") = -1,
          "The result document of `sam3 pick -o` (schema sam3.segment/1, docs/pick.md) as JSON text.")
      .def("__repr__", [](const PyPick& p) {
        std::string s = "<sam3.PickResult masks=" + std::to_string(p.r.masks.size()) + " ious=[";
        for (size_t k = 0; k < p.r.masks.size(); ++k) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%s%.3f", k ? ", " : "", static_cast<double>(p.r.masks[k].iou));
          s += buf;
        }
        return s + "] best=" + std::to_string(p.r.best()) + ">";
      });

  model.def("pick", &pick, py::arg("embedding"), py::arg("points") = py::none(), py::arg("labels") = py::none(),
            py::arg("box") = py::none(), py::arg("mask_logits") = py::none(), py::arg("multimask") = py::none(),
            py::arg("masks") = true,
            "Segments ONE object of the image of `embedding` from clicks, a box and / or a previous pick's mask "
            "(docs/pick.md). points: (x, y) pairs or an (N, 2) array in pixels of the original image, in the order "
            "clicked; labels: one per point, 1 / True positive, 0 / False negative (default: all positive); box: "
            "[x0, y0, x1, y1] pixels; mask_logits: a previous PickResult.low_res_logits[k], (L, L) float32, to "
            "refine; multimask: True 3 candidates, False one mask, None 3 for a single click only; masks: False "
            "skips the full-size masks. Returns a PickResult. Needs a model with the interactive weights "
            "(Model.supports_pick). The first pick on an embedding runs the SAM2 neck and keeps its output with the "
            "embedding for the next picks. Library errors (a point outside the image, a degenerate box, logits of "
            "the wrong size, no interactive weights) are RuntimeErrors; the GIL is released while the model runs.");
}

}  // namespace sam3::python

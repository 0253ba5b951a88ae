// sam3.cpp — sam3.Model and sam3.ImageEmbedding: loading, encoding (numpy array, path or PIL image), embeddings on
// disk, and segment() (pick(): bind_pick.cpp). The GIL is released while the library computes.
#include <utility>
#include <vector>

#include "bind.h"

namespace sam3::python {

namespace {

// The one place where the precision reaches the library (ModelParams::dtype; docs/precision.md).
ModelParams model_params(const std::string& config, const std::string& dtype) {
  if (dtype != "auto" && dtype != "f32" && dtype != "bf16" && dtype != "int8")
    throw py::value_error("dtype '" + dtype + "': expected 'auto', 'f32', 'bf16' or 'int8'");
  ModelParams mp = model_default_params();
  mp.config_path = config;
  mp.dtype = dtype;
  return mp;
}

PyEmbedding wrap(ImageEmbedding e) {
  PyEmbedding p;
  p.emb = std::move(e);
  return p;
}

EncodeParams encode_params(const PyModel& self, bool pick_features) {
  EncodeParams ep = encode_default_params();
  ep.n_threads = self.threads;
  ep.pick_features = pick_features;
  return ep;
}

PyEmbedding encode_array(const PyModel& self, const py::array& image, bool pick_features) {
  if (!image.dtype().is(py::dtype::of<uint8_t>()))
    throw py::type_error("image: expected a uint8 array, got dtype " + std::string(py::str(image.dtype())));
  if (image.ndim() != 3 || image.shape(2) != 3)
    throw py::value_error("image: expected an H x W x 3 (RGB) array, got shape " +
                          std::string(py::str(py::tuple(
                              py::cast(std::vector<py::ssize_t>(image.shape(), image.shape() + image.ndim()))))));
  const auto rgb = py::array_t<uint8_t, py::array::c_style>::ensure(image);
  ImageView view{rgb.data(), static_cast<int>(rgb.shape(1)), static_cast<int>(rgb.shape(0))};
  const EncodeParams ep = encode_params(self, pick_features);
  py::gil_scoped_release release;
  return wrap(self.model->encode(view, ep));
}

PyEmbedding encode(const PyModel& self, const py::object& image, bool pick_features) {
  if (py::isinstance<py::array>(image)) return encode_array(self, image.cast<py::array>(), pick_features);
  if (py::isinstance<py::str>(image) || py::isinstance<py::bytes>(image) || py::hasattr(image, "__fspath__")) {
    const std::string path = py::str(py::module_::import("os").attr("fsdecode")(image));
    const EncodeParams ep = encode_params(self, pick_features);
    py::gil_scoped_release release;
    return wrap(self.model->encode_file(path, ep));
  }
  const std::string module = py::str(py::type::of(image).attr("__module__"));
  if (module.rfind("PIL.", 0) == 0 && py::hasattr(image, "convert"))
    return encode_array(self, py::module_::import("numpy").attr("asarray")(image.attr("convert")("RGB")),
                        pick_features);
  throw py::type_error("image: expected a numpy uint8 H x W x 3 array, a path, or a PIL image; got " +
                       std::string(py::str(py::type::of(image))));
}

// A prompt given in Python: "dog", or {"text": "dog", "boxes": [([x0, y0, x1, y1], True), [x0, y0, x1, y1], ...]}
// (pixels of the original image; True/absent: positive exemplar, False: negative).
Prompt to_prompt(const py::handle& p, size_t index, int W, int H) {
  const std::string where = "prompts[" + std::to_string(index) + "]";
  Prompt q;
  if (py::isinstance<py::str>(p)) {
    q.text = p.cast<std::string>();
    return q;
  }
  if (!py::isinstance<py::dict>(p))
    throw py::type_error(where + ": expected a text or a dict {'text': ..., 'boxes': [...]}");
  const py::dict d = p.cast<py::dict>();
  for (const auto& item : d) {
    const std::string key = py::str(item.first);
    if (key != "text" && key != "boxes") throw py::value_error(where + ": unknown key '" + key + "'");
  }
  if (d.contains("text")) q.text = d["text"].cast<std::string>();
  if (d.contains("boxes")) {
    for (const py::handle& b : d["boxes"]) {
      py::object xyxy = py::reinterpret_borrow<py::object>(b);
      bool positive = true;
      if (py::isinstance<py::tuple>(b) && py::len(b) == 2) {
        const py::tuple t = b.cast<py::tuple>();
        xyxy = t[0];
        positive = t[1].cast<bool>();
      }
      const std::vector<float> c = xyxy.cast<std::vector<float>>();
      if (c.size() != 4) throw py::value_error(where + ": a box is [x0, y0, x1, y1] or ([x0, y0, x1, y1], positive)");
      try {
        q.boxes.push_back(PromptBox::from_user_xyxy(c[0], c[1], c[2], c[3], W, H, positive));
      } catch (const std::exception& e) {
        throw py::value_error(where + ": " + e.what());
      }
    }
  }
  if (q.text.empty() && q.boxes.empty()) throw py::value_error(where + ": a prompt needs a text and/or boxes");
  return q;
}

std::shared_ptr<PySegmentation> segment(const PyModel& self, const PyEmbedding& pe, const py::object& prompts_obj,
                                        float threshold, const std::string& masks, bool semantic) {
  const ImageEmbedding& emb = pe.emb;
  if (masks != "numpy" && masks != "rle" && masks != "none")
    throw py::value_error("masks: expected 'numpy', 'rle' or 'none', got '" + masks + "'");
  if (!(threshold >= 0.0f && threshold <= 1.0f)) throw py::value_error("threshold: expected a value in [0, 1]");
  if (emb.empty()) throw py::value_error("segment: the embedding is empty");
  py::list list;
  if (py::isinstance<py::str>(prompts_obj) || py::isinstance<py::dict>(prompts_obj))
    list.append(prompts_obj);
  else
    list = py::list(prompts_obj);
  std::vector<Prompt> prompts;
  for (size_t i = 0; i < list.size(); ++i)
    prompts.push_back(to_prompt(list[i], i, emb.image_width(), emb.image_height()));
  if (prompts.empty()) throw py::value_error("segment: no prompt");
  SegmentParams sp = segment_default_params();
  sp.n_threads = self.threads;
  sp.threshold = threshold;
  sp.masks = masks != "none";
  sp.semantic = semantic;
  auto out = std::make_shared<PySegmentation>();
  out->masks = masks;
  {
    py::gil_scoped_release release;
    ImageState state(self.model);
    state.set_embedding(emb);
    out->result = sam3::segment(state, prompts, sp);
  }
  return out;
}

}  // namespace

py::class_<PyModel> bind_model(py::module_& m) {
  py::class_<PyEmbedding>(m, "ImageEmbedding",
                          "The encoding of one image that every prompt on it reuses (Model.encode, "
                          "Model.load_embedding). Immutable; may be shared between threads. The first Model.pick on "
                          "it keeps the interactive features it computes (the SAM2 neck) with it for the next picks.")
      .def_property_readonly(
          "width", [](const PyEmbedding& e) { return e.emb.image_width(); }, "Width of the original image, pixels.")
      .def_property_readonly(
          "height", [](const PyEmbedding& e) { return e.emb.image_height(); }, "Height of the original image, pixels.")
      .def_property_readonly(
          "config_name", [](const PyEmbedding& e) { return e.emb.config_name(); }, "Config of the model that made it.")
      .def_property_readonly(
          "encode_ms", [](const PyEmbedding& e) { return e.emb.timings().total_ms; },
          "Wall time of the encode that made it, ms (0 for an embedding loaded from disk).")
      .def_property_readonly(
          "pick_bytes", [](const PyEmbedding& e) { return e.emb.pick_bytes(); },
          "Bytes it holds for Model.pick: the interactive features (encode(pick_features=True)) and / or the ViT "
          "output they are computed from; 0 when it cannot be picked on (a model without the interactive weights, "
          "or an embedding saved without the features).")
      .def(
          "save",
          [](const PyEmbedding& e, const py::object& path) {
            const std::string p = py::str(py::module_::import("os").attr("fsdecode")(path));
            py::gil_scoped_release release;
            e.emb.save(p);
          },
          py::arg("path"),
          "Writes the embedding as a safetensors file (Model.load_embedding reads it), with the interactive "
          "features when it holds them (encode(pick_features=True)); the ViT output is not saved.")
      .def("__repr__", [](const PyEmbedding& e) {
        return "<sam3.ImageEmbedding " + std::to_string(e.emb.image_width()) + "x" +
               std::to_string(e.emb.image_height()) + " config='" + e.emb.config_name() + "'>";
      });

  py::class_<PyModel> model(m, "Model",
                      "A loaded SAM 3 model: immutable, thread-safe, weights memory-mapped once.\n\n"
                      "Model(path, config=None, dtype='auto', threads=None): path is the official sam3.pt or a "
                      "safetensors file; config a config JSON (default: the file's, else the official 'sam3'); "
                      "dtype the precision ('auto', 'f32', 'bf16' or 'int8'; docs/precision.md); threads per call (default: one per CPU).");
  model.def(py::init([](const py::object& path, const py::object& config, const std::string& dtype,
                       const py::object& threads) {
             auto self = std::make_unique<PyModel>();
             py::object fsdecode = py::module_::import("os").attr("fsdecode");
             self->path = py::str(fsdecode(path));
             const ModelParams mp = model_params(config.is_none() ? "" : std::string(py::str(fsdecode(config))), dtype);
             self->dtype = dtype;
             self->threads = threads.is_none() ? default_thread_count() : threads.cast<int>();
             if (self->threads < 1) throw py::value_error("threads: expected a positive number");
             py::gil_scoped_release release;
             self->model = Model::load(self->path, mp);
             return self;
           }),
           py::arg("path"), py::arg("config") = py::none(), py::arg("dtype") = "auto", py::arg("threads") = py::none());
  model
      .def_property_readonly(
          "path", [](const PyModel& s) { return s.path; }, "The weights file.")
      .def_property_readonly(
          "config_name", [](const PyModel& s) { return s.model->config_name(); },
          "The model's config name ('sam3' for the official model).")
      .def_property_readonly(
          "input_size", [](const PyModel& s) { return s.model->input_size(); },
          "Side of the model's square input (1008 for SAM 3).")
      .def_property_readonly(
          "dtype", [](const PyModel& s) { return s.dtype; }, "The precision asked for.")
      .def_property_readonly(
          "precision", [](const PyModel& s) { return s.model->info().precision; },
          "The precision in use ('f32', 'bf16' or 'int8': dtype 'auto' resolved on this CPU).")
      .def_property_readonly(
          "threads", [](const PyModel& s) { return s.threads; }, "Threads each call uses.")
      .def_property_readonly(
          "supports_pick", [](const PyModel& s) { return s.model->supports_pick(); },
          "Whether the checkpoint has the interactive weights that Model.pick needs (the released sam3.pt has).")
      .def("encode", &encode, py::arg("image"), py::arg("pick_features") = false,
           "Encodes an image: a numpy uint8 array H x W x 3 (RGB), a path to a JPEG/PNG file, or a PIL image. "
           "Returns an ImageEmbedding. The expensive step (once per image); the GIL is released meanwhile. "
           "pick_features=True also runs the interactive head's SAM2 neck now (a model with the interactive weights), "
           "instead of on the first pick, and save() then keeps its output.")
      .def(
          "load_embedding",
          [](const PyModel& s, const py::object& path) {
            const std::string p = py::str(py::module_::import("os").attr("fsdecode")(path));
            py::gil_scoped_release release;
            return wrap(s.model->load_embedding(p));
          },
          py::arg("path"), "Reads an embedding written by ImageEmbedding.save (made by a model with this config).")
      .def("segment", &segment, py::arg("embedding"), py::arg("prompts"), py::arg("threshold") = 0.5f,
           py::arg("masks") = "numpy", py::arg("semantic") = true,
           "Segments the image of `embedding` with each prompt: a text ('dog') or a dict {'text': 'dog', "
           "'boxes': [([x0, y0, x1, y1], True), ...]} (exemplar boxes in pixels; True positive, False negative; a "
           "bare [x0, y0, x1, y1] is positive; no text: boxes only). Keeps instances with score > threshold. "
           "masks: 'numpy' (bool N x H x W), 'rle' (COCO RLE dicts) or 'none'. Returns a Segmentation, one "
           "PromptResult per prompt. The GIL is released while the model runs.")
      .def("__repr__", [](const PyModel& s) {
        return "<sam3.Model '" + s.path + "' config='" + s.model->config_name() +
               "' threads=" + std::to_string(s.threads) + ">";
      });
  return model;
}

}  // namespace sam3::python

// sam3.cpp — the Python module sam3._sam3 (see python/sam3/__init__.py for the package around it).
#include "bind.h"

PYBIND11_MODULE(_sam3, m) {
  m.doc() = "SAM 3 (Promptable Concept Segmentation) in C++: the compiled part of the sam3 package.";
  // pybind11 looks numpy's C API up in a function-local static on first use. Done here, at import (one thread, under
  // the import lock): first done in two threads at once, the second waits on the static's guard while holding the
  // GIL, which the first needs to import numpy -- a deadlock (seen with two threads' first encode()).
  pybind11::module_::import("numpy");
  (void)pybind11::isinstance<pybind11::array>(pybind11::none());
  (void)pybind11::dtype::of<uint8_t>();
  auto model = sam3::python::bind_model(m);
  sam3::python::bind_pick(m, model);
  sam3::python::bind_results(m);
  sam3::python::bind_batch(m);
  m.def("default_thread_count", &sam3::default_thread_count, "Threads a call uses by default: one per online CPU.");
}

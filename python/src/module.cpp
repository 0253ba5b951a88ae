// sam3.cpp — the Python module sam3._sam3 (see python/sam3/__init__.py for the package around it).
#include "bind.h"

PYBIND11_MODULE(_sam3, m) {
  m.doc() = "SAM 3 (Promptable Concept Segmentation) in C++: the compiled part of the sam3 package.";
  sam3::python::bind_model(m);
  sam3::python::bind_results(m);
  sam3::python::bind_batch(m);
  m.def("default_thread_count", &sam3::default_thread_count, "Threads a call uses by default: one per online CPU.");
}

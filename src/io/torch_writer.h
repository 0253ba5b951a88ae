// sam3.cpp — writes checkpoints in the layout torch.save produces for {"model": OrderedDict(state_dict)}:
// a zip (io/zip_writer.h: stored entries, 64-byte aligned data, ZIP64 when needed) holding `<archive>/data.pkl`
// (pickle protocol 2, _rebuild_tensor_v2 with persistent ids, one storage per tensor), `<archive>/data/<i>`,
// `<archive>/byteorder` and `<archive>/version`. Tensor data is streamed to the file, so full-size random
// checkpoints can be written without holding them in memory. Our reader (io/torch_checkpoint.h) and PyTorch read it.
// ref: torch/serialization.py (_save), torch/_tensor.py (Tensor._reduce_ex_internal)
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/zip_writer.h"

namespace sam3 {

class TorchCheckpointWriter {
 public:
  // archive: the folder inside the zip; empty = the file name without directory and extension (as torch.save does).
  explicit TorchCheckpointWriter(const std::string& path, std::string archive = "", ZipWriter::Options zip = {});
  // Streams the tensor's bytes into the file now; the caller may drop the tensor afterwards. Keys must be unique.
  void add(const std::string& key, const Tensor& t);
  // Same, with the bytes produced in chunks: fill(dst, byte_offset, n) must write n bytes of the tensor's data
  // starting at byte_offset (row-major, little-endian) into dst.
  using Fill = std::function<void(uint8_t* dst, uint64_t byte_offset, size_t n)>;
  void add(const std::string& key, DType dtype, const Shape& shape, const Fill& fill);
  // Writes the pickle and the end of the zip. Nothing is usable before this.
  void finish();

 private:
  struct Item {
    std::string key;
    DType dtype;
    Shape shape;
  };
  uint64_t begin(const std::string& key, DType dtype, const Shape& shape);  // checks, starts the entry; bytes

  std::string path_;
  std::string archive_;
  ZipWriter zip_;
  std::vector<Item> items_;
  std::map<std::string, size_t> keys_;
};

// One call: every tensor, in key order, under {"model": OrderedDict(...)}. Keys are written as given (full keys,
// e.g. "detector.backbone...."). Throws sam3::Error on I/O failure.
void write_torch_checkpoint(const std::string& path, const std::map<std::string, Tensor>& tensors_with_full_keys);

// The pickle alone (protocol 2) for these entries, as written into data.pkl: storage i is "<i>". For tests.
std::string torch_state_dict_pickle(const std::vector<std::pair<std::string, std::pair<DType, Shape>>>& entries);

}  // namespace sam3

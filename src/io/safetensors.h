// sam3.cpp — safetensors reading (zero-copy over mmap) and writing.
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[b,e]}, "__metadata__":
// {str: str}}, then the raw data. Offsets are relative to the end of the header.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sam3 {

struct TensorFile {
  std::map<std::string, Tensor> tensors;          // name -> tensor (borrowed from the mapped file)
  std::map<std::string, std::string> metadata;    // "__metadata__"
  std::shared_ptr<const void> keepalive;          // the mapping

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  // Throws sam3::Error naming the tensor and the file if absent.
  const Tensor& get(const std::string& name) const;
  std::string source;  // path, for messages
};

// Validates the header thoroughly (dtype names, shapes, offsets within the file, no overlap past the end); throws
// sam3::Error with the path and the problem on any malformed input.
TensorFile read_safetensors(const std::string& path);
class MappedFile;  // io/mmap_file.h
// The same over a file already mapped (the tensors' keepalive is then `file`).
TensorFile read_safetensors(std::shared_ptr<const MappedFile> file);

// Writes tensors (in name order) with optional metadata. Throws on I/O failure.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Streamed: the header from the entries (written in the given order; names unique), then each entry's bytes as
// `fill(i)` returns them, one at a time, so a large file never has to be held in memory. `fill(i)` must return a
// tensor of entry i's dtype and shape; it may be dropped once written. Written atomically (io/atomic_file.h).
// The data is packed without holes (the format forbids them) and starts 8-byte aligned: a reader borrows a tensor
// in place only if its offset suits its element size, so order the entries by descending element size (F32, then
// BF16/F16, then I8) to keep every one aligned.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
};
void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata,
                       const std::function<Tensor(size_t index)>& fill);

}  // namespace sam3

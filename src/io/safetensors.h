// sam3.cpp — safetensors reading (zero-copy over mmap) and writing.
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[b,e]}, "__metadata__":
// {str: str}}, then the raw data. Offsets are relative to the end of the header.
#pragma once
#include <map>
#include <memory>
#include <string>

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

// Writes tensors (in name order) with optional metadata. Throws on I/O failure.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace sam3

// sam3.cpp — reads a torch.save'd checkpoint (zip format, PyTorch >= 1.6) with no Python: the pickle
// `<archive>/data.pkl` is run through the restricted unpickler (io/pickle.h); every tensor's storage
// `<archive>/data/<key>` is a stored zip entry, and contiguous tensors are borrowed zero-copy from the mapping.
// The top level may be {"model": state_dict} (as the released sam3.pt) or a bare state dict.
// ref: torch/serialization.py (_save, _load), torch/_utils.py (_rebuild_tensor_v2)
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace sam3 {

class MappedFile;  // io/mmap_file.h

struct TorchCheckpoint {
  std::vector<std::pair<std::string, Tensor>> tensors;  // full keys, in state-dict order
  std::vector<std::string> non_tensors;                 // keys whose value is not a tensor (left out)
  std::string archive;                                  // the folder inside the zip ("sam3", "archive", ...)
  std::shared_ptr<const void> keepalive;                // the mapping
};

// Throws sam3::Error naming the file (and the key or entry at fault) on anything malformed or unsafe. Tensors whose
// strides are contiguous are borrowed from the mapped file (read-only memory: do not write through them); others are
// copied into owned contiguous tensors.
TorchCheckpoint read_torch_checkpoint(const std::string& path);
// The same over a file already mapped (its keepalive is then `file`).
TorchCheckpoint read_torch_checkpoint(std::shared_ptr<const MappedFile> file);

}  // namespace sam3

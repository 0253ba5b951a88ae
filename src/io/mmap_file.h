// sam3.cpp — read-only memory-mapped file. Tensors borrowed from it hold a shared_ptr to keep it mapped.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace sam3 {

class MappedFile {
 public:
  // Maps the whole file read-only. Throws sam3::Error (naming the path) if it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace sam3

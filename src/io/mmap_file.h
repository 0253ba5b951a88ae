// sam3.cpp — read-only memory-mapped file. Tensors borrowed from it hold a shared_ptr to keep it mapped.
//
// The mapping reads the file's pages as they are touched, so the file must not change while it is mapped: a file
// truncated in place (cp onto it, truncate, a download tool rewriting it) raises SIGBUS in every process that then
// reads a lost page, and one rewritten in place gives them different weights. Replace a model file atomically
// instead (write a new file, rename it over the old name: the mapping keeps the old inode and its data, as the test
// MappedFile.RenameOverKeepsTheMappedData checks). docs/security.md lists this among what is not defended against.
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

  // Gives back this process's copy of the pages lying wholly inside [p, p + n) (madvise MADV_DONTNEED): they stop
  // counting in the resident set and are read again from the file (the page cache) if touched later, with the same
  // bytes, since the mapping is read-only. For data that was converted at load and will not be read again. Pages
  // shared with bytes outside the range stay; a range not inside this mapping is ignored. Best effort: never throws.
  void release(const void* p, size_t n) const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace sam3

// sam3.cpp — output files written atomically, and the check that an output is not one of the inputs.
//
// AtomicFile writes to a temporary file next to the target (same directory, so the same file system) and renames it
// over the target on commit(): a reader never sees a half-written file, a failed or interrupted write leaves the old
// file as it was, and an existing target that is a hard link or another name of some other file is replaced, never
// written through.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace sam3 {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // creates "<path>.tmp.<pid>.<n>"; throws sam3::Error naming the path
  ~AtomicFile();                          // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::FILE* file() { return file_; }
  void write(const void* data, size_t size);  // throws on a short write
  void write(const std::string& text) { write(text.data(), text.size()); }
  void commit();                              // flush, close, rename over the target; throws on failure

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// The whole file in one go.
void write_file_atomic(const std::string& path, const void* data, size_t size);

// True if both paths name the same existing file (same device and inode, links followed).
bool same_file(const std::string& a, const std::string& b);
// Throws sam3::Error "<what> 'output' is the input 'x'" if `output` names an existing file among `inputs` (empty
// names are skipped): an output must never overwrite the image or the model it is made from.
void check_not_an_input(const std::string& output, const std::vector<std::string>& inputs, const std::string& what);

}  // namespace sam3

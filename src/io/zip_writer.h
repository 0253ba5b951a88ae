// sam3.cpp — streaming zip writer in the layout torch.save produces: stored (uncompressed) entries whose data starts
// on an aligned offset (padding in an "FB" extra field, as PyTorch does), CRC32 via zlib, ZIP64 structures when
// sizes or offsets need them (or always, with force_zip64, so tests can exercise them on small files).
// Entry data is streamed to the file; nothing is held in memory beyond a small write buffer.
// ref: PKWARE APPNOTE.TXT 6.3.x; PyTorch caffe2/serialize/inline_container.cc (getPadding)
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sam3 {

class ZipWriter {
 public:
  struct Options {
    uint64_t alignment = 64;   // data of every entry starts at a multiple of this
    bool force_zip64 = false;  // write ZIP64 extra fields and end-of-central-directory records even when not needed
  };

  // Creates (truncates) the file. Throws sam3::Error naming the path on failure.
  explicit ZipWriter(const std::string& path);
  ZipWriter(const std::string& path, Options options);
  // If finish() was not called (e.g. an exception), the partial file is closed and removed.
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // Streaming: begin_entry(name, exact size), write() exactly `size` bytes in any chunks, end_entry().
  void begin_entry(const std::string& name, uint64_t size);
  void write(const void* data, size_t n);
  void end_entry();
  // Convenience: one whole entry.
  void add_entry(const std::string& name, const void* data, size_t n);
  // Writes the central directory and end records, closes the file.
  void finish();

  uint64_t offset() const { return offset_; }  // bytes written so far

 private:
  struct Central {
    std::string name;
    uint64_t size, header_offset;
    uint32_t crc;
  };
  void put(const void* data, size_t n);  // buffered append
  void flush();

  std::string path_;
  Options opt_;
  int fd_ = -1;
  bool finished_ = false;
  uint64_t offset_ = 0;
  std::vector<uint8_t> buf_;
  std::vector<Central> entries_;
  // The entry being written.
  bool in_entry_ = false;
  uint64_t remaining_ = 0;
  uint32_t crc_ = 0;
};

}  // namespace sam3

// sam3.cpp — read-only zip archive over a memory-mapped file, as PyTorch's torch.save writes it: stored
// (uncompressed) entries, usually 64-byte aligned, ZIP64 for large archives. Entry bytes are returned zero-copy.
//
// Every offset and size read from the archive is checked against the file before use; any malformed structure,
// compressed or encrypted entry, or duplicate name throws sam3::Error naming the file and the problem.
// ref: PKWARE APPNOTE.TXT 6.3.x (sections 4.3.7 local header, 4.3.12 central directory, 4.3.14-16 ZIP64, 4.5.3)
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/mmap_file.h"

namespace sam3 {

struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;    // absolute file offset of the first data byte
  uint64_t size = 0;           // bytes (stored: compressed size == uncompressed size)
  uint32_t crc32 = 0;          // as recorded in the central directory
  uint64_t header_offset = 0;  // local file header offset
};

class ZipReader {
 public:
  // Parses the end-of-central-directory record (ZIP64 when present), the central directory and every local header.
  explicit ZipReader(std::shared_ptr<const MappedFile> file);
  static ZipReader open(const std::string& path);
  // The same over bytes in memory (fuzzing, tests); `keepalive` (may be null) keeps them alive, `name` is for
  // messages.
  ZipReader(const uint8_t* data, size_t size, std::string name, std::shared_ptr<const void> keepalive = {});

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr if absent.
  const ZipEntry* find(const std::string& name) const;
  // Throws sam3::Error naming the entry and the archive if absent.
  const ZipEntry& get(const std::string& name) const;
  // Zero-copy pointer to the entry's bytes (valid while the mapping lives; see keepalive()).
  const uint8_t* data(const ZipEntry& e) const { return base_ + e.data_offset; }
  // Computes the CRC32 of the entry's bytes and compares it with the central directory (reads every byte).
  bool crc_ok(const ZipEntry& e) const;
  // Throws sam3::Error if crc_ok(e) is false.
  void check_crc(const ZipEntry& e) const;

  const std::string& path() const { return name_; }
  size_t size() const { return size_; }  // of the whole archive
  // Keeps the archive's bytes alive (the MappedFile when opened from a file).
  const std::shared_ptr<const void>& keepalive() const { return keep_; }
  bool zip64() const { return zip64_; }  // true if the archive has a ZIP64 end-of-central-directory record

 private:
  void parse();

  const uint8_t* base_;
  size_t size_;
  std::string name_;
  std::shared_ptr<const void> keep_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
  bool zip64_ = false;
};

}  // namespace sam3

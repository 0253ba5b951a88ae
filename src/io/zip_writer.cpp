// ref: PKWARE APPNOTE.TXT 6.3.x; PyTorch caffe2/serialize/inline_container.cc (getPadding: "FB" extra field)
#include "io/zip_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace sam3 {

namespace {

constexpr size_t kBufferSize = size_t{1} << 20;
constexpr uint64_t kMax32 = 0xFFFFFFFF;
constexpr uint16_t kFlagUtf8 = 0x0800;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: a fixed timestamp keeps output reproducible

// Writes all n bytes to fd (retrying short writes and EINTR); errors name `path`.
void write_all(int fd, const std::string& path, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw Error("error writing '" + path + "': " + std::strerror(w < 0 ? errno : EIO));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void le16(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void le32(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void le64(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

ZipWriter::ZipWriter(const std::string& path) : ZipWriter(path, Options()) {}

ZipWriter::ZipWriter(const std::string& path, Options options) : path_(path), opt_(options) {
  if (opt_.alignment == 0 || opt_.alignment > 0x8000) throw Error("ZipWriter: alignment must be in [1, 32768]");
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("cannot create '" + path + "': " + std::strerror(errno));
  buf_.reserve(kBufferSize);
}

ZipWriter::~ZipWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    if (!finished_) ::unlink(path_.c_str());
  }
}

void ZipWriter::flush() {
  write_all(fd_, path_, buf_.data(), buf_.size());
  buf_.clear();
}

void ZipWriter::put(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  offset_ += n;
  if (buf_.size() + n <= kBufferSize) {
    buf_.insert(buf_.end(), p, p + n);
    return;
  }
  flush();
  if (n < kBufferSize) {
    buf_.insert(buf_.end(), p, p + n);
    return;
  }
  write_all(fd_, path_, p, n);  // large chunk: straight to the file
}

void ZipWriter::begin_entry(const std::string& name, uint64_t size) {
  if (fd_ < 0 || finished_) throw Error("ZipWriter '" + path_ + "': begin_entry after finish");
  if (in_entry_) throw Error("ZipWriter '" + path_ + "': begin_entry('" + name + "') inside another entry");
  if (name.size() > 0xFFFF) throw Error("ZipWriter: entry name too long");
  const uint64_t header_offset = offset_;
  const bool z64 = opt_.force_zip64 || size >= kMax32;

  std::vector<uint8_t> h;
  le32(h, 0x04034b50);
  le16(h, z64 ? 45 : 20);  // version needed: 4.5 for ZIP64
  le16(h, kFlagUtf8);
  le16(h, 0);  // stored
  le16(h, 0);  // time
  le16(h, kDosDate);
  le32(h, 0);  // CRC32, patched in end_entry()
  le32(h, z64 ? kMax32 : size);
  le32(h, z64 ? kMax32 : size);
  le16(h, name.size());
  const size_t extra_len_pos = h.size();
  le16(h, 0);  // extra length, set below
  h.insert(h.end(), name.begin(), name.end());
  const size_t extra_begin = h.size();
  if (z64) {
    le16(h, 0x0001);
    le16(h, 16);
    le64(h, size);
    le64(h, size);
  }
  // Padding so that the data starts aligned ("FB" extra field, like PyTorch).
  const uint64_t unpadded = header_offset + h.size() + 4;
  const uint64_t pad = (opt_.alignment - unpadded % opt_.alignment) % opt_.alignment;
  le16(h, 0x4246);
  le16(h, pad);
  h.insert(h.end(), static_cast<size_t>(pad), uint8_t{'Z'});
  const size_t extra_len = h.size() - extra_begin;
  h[extra_len_pos] = static_cast<uint8_t>(extra_len);
  h[extra_len_pos + 1] = static_cast<uint8_t>(extra_len >> 8);
  put(h.data(), h.size());

  entries_.push_back({name, size, header_offset, 0});
  in_entry_ = true;
  remaining_ = size;
  crc_ = static_cast<uint32_t>(crc32_z(0L, Z_NULL, 0));
}

void ZipWriter::write(const void* data, size_t n) {
  if (!in_entry_) throw Error("ZipWriter '" + path_ + "': write outside an entry");
  if (n > remaining_)
    throw Error("ZipWriter '" + path_ + "': entry '" + entries_.back().name + "' written past its declared size");
  crc_ = static_cast<uint32_t>(crc32_z(crc_, static_cast<const Bytef*>(data), n));
  remaining_ -= n;
  put(data, n);
}

void ZipWriter::end_entry() {
  if (!in_entry_) throw Error("ZipWriter '" + path_ + "': end_entry outside an entry");
  Central& c = entries_.back();
  if (remaining_ != 0)
    throw Error("ZipWriter '" + path_ + "': entry '" + c.name + "' is " + std::to_string(remaining_) +
                " bytes short of its declared size");
  c.crc = crc_;
  in_entry_ = false;
  uint8_t le[4];
  for (int i = 0; i < 4; ++i) le[i] = static_cast<uint8_t>(crc_ >> (8 * i));
  const uint64_t pos = c.header_offset + 14;
  const uint64_t buffered_from = offset_ - buf_.size();
  if (pos >= buffered_from) {  // header still in the buffer
    std::memcpy(buf_.data() + (pos - buffered_from), le, 4);
    return;
  }
  flush();
  if (::pwrite(fd_, le, 4, static_cast<off_t>(pos)) != 4)
    throw Error("error writing '" + path_ + "': " + std::strerror(errno));
}

void ZipWriter::add_entry(const std::string& name, const void* data, size_t n) {
  begin_entry(name, n);
  if (n) write(data, n);
  end_entry();
}

void ZipWriter::finish() {
  if (in_entry_) throw Error("ZipWriter '" + path_ + "': finish inside entry '" + entries_.back().name + "'");
  if (finished_) return;
  const uint64_t cd_offset = offset_;
  std::vector<uint8_t> h;
  for (const Central& c : entries_) {
    h.clear();
    const bool big_size = opt_.force_zip64 || c.size >= kMax32;
    const bool big_off = opt_.force_zip64 || c.header_offset >= kMax32;
    le32(h, 0x02014b50);
    le16(h, (3 << 8) | 45);  // made by: Unix, spec 4.5
    le16(h, (big_size || big_off) ? 45 : 20);
    le16(h, kFlagUtf8);
    le16(h, 0);
    le16(h, 0);
    le16(h, kDosDate);
    le32(h, c.crc);
    le32(h, big_size ? kMax32 : c.size);
    le32(h, big_size ? kMax32 : c.size);
    le16(h, c.name.size());
    const uint64_t extra = (big_size ? 16 : 0) + (big_off ? 8 : 0);
    le16(h, extra ? extra + 4 : 0);
    le16(h, 0);                  // comment
    le16(h, 0);                  // disk
    le16(h, 0);                  // internal attributes
    le32(h, uint64_t{0644} << 16);  // external attributes: Unix mode
    le32(h, big_off ? kMax32 : c.header_offset);
    h.insert(h.end(), c.name.begin(), c.name.end());
    if (extra) {
      le16(h, 0x0001);
      le16(h, extra);
      if (big_size) {
        le64(h, c.size);
        le64(h, c.size);
      }
      if (big_off) le64(h, c.header_offset);
    }
    put(h.data(), h.size());
  }
  const uint64_t cd_size = offset_ - cd_offset;
  const uint64_t n = entries_.size();
  const bool z64 = opt_.force_zip64 || n >= 0xFFFF || cd_size >= kMax32 || cd_offset >= kMax32;
  h.clear();
  if (z64) {
    const uint64_t z_offset = offset_;
    le32(h, 0x06064b50);
    le64(h, 44);  // size of the rest of this record
    le16(h, (3 << 8) | 45);
    le16(h, 45);
    le32(h, 0);
    le32(h, 0);
    le64(h, n);
    le64(h, n);
    le64(h, cd_size);
    le64(h, cd_offset);
    le32(h, 0x07064b50);  // locator
    le32(h, 0);
    le64(h, z_offset);
    le32(h, 1);
  }
  le32(h, 0x06054b50);
  le16(h, 0);
  le16(h, 0);
  le16(h, z64 ? 0xFFFF : n);
  le16(h, z64 ? 0xFFFF : n);
  le32(h, z64 ? kMax32 : cd_size);
  le32(h, z64 ? kMax32 : cd_offset);
  le16(h, 0);
  put(h.data(), h.size());
  flush();
  const int fd = fd_;
  fd_ = -1;
  finished_ = true;
  if (::close(fd) != 0) throw Error("error closing '" + path_ + "': " + std::strerror(errno));
}

}  // namespace sam3

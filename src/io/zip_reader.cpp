// ref: PKWARE APPNOTE.TXT 6.3.x; PyTorch caffe2/serialize/inline_container.cc (what torch.save writes)
#include "io/zip_reader.h"

#include <zlib.h>

#include <algorithm>

#include "core/error.h"

namespace sam3 {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint64_t kEocdSize = 22, kZip64LocatorSize = 20, kZip64EocdSize = 56, kCentralSize = 46, kLocalSize = 30;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) { return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24); }
uint64_t rd64(const uint8_t* p) { return uint64_t{rd32(p)} | (uint64_t{rd32(p + 4)} << 32); }

}  // namespace

ZipReader ZipReader::open(const std::string& path) { return ZipReader(MappedFile::open(path)); }

ZipReader::ZipReader(std::shared_ptr<const MappedFile> file)
    : base_(file->data()), size_(file->size()), name_(file->path()), keep_(file) {
  parse();
}

ZipReader::ZipReader(const uint8_t* data, size_t size, std::string name, std::shared_ptr<const void> keepalive)
    : base_(data), size_(size), name_(std::move(name)), keep_(std::move(keepalive)) {
  parse();
}

void ZipReader::parse() {
  const uint8_t* base = base_;
  const uint64_t size = size_;
  auto fail = [&](const std::string& why) { return Error("malformed zip archive '" + name_ + "': " + why); };
  // [b, b+n) lies inside the file (overflow-safe).
  auto inside = [&](uint64_t b, uint64_t n) { return b <= size && n <= size - b; };

  // ---- end of central directory: the last EOCD signature whose comment fits in the file ----------------------
  if (size < kEocdSize) throw fail("file is too small to be a zip archive (" + std::to_string(size) + " bytes)");
  uint64_t eocd = UINT64_MAX;
  const uint64_t lowest = size - kEocdSize > 0xFFFF ? size - kEocdSize - 0xFFFF : 0;
  for (uint64_t p = size - kEocdSize + 1; p-- > lowest;) {
    if (rd32(base + p) == kEocdSig && p + kEocdSize + rd16(base + p + 20) <= size) {
      eocd = p;
      break;
    }
  }
  if (eocd == UINT64_MAX) throw fail("no end-of-central-directory record (not a zip file, or truncated)");
  const uint8_t* e = base + eocd;
  if (rd16(e + 4) != 0 || rd16(e + 6) != 0) throw fail("multi-disk archives are not supported");
  uint64_t n_entries = rd16(e + 10);
  uint64_t cd_size = rd32(e + 12);
  uint64_t cd_offset = rd32(e + 16);
  uint64_t cd_limit = eocd;  // the central directory must end before this offset

  // ---- ZIP64 end of central directory (locator immediately before the EOCD) ----------------------------------
  if (eocd >= kZip64LocatorSize && rd32(base + eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    const uint8_t* loc = base + eocd - kZip64LocatorSize;
    if (rd32(loc + 4) != 0 || rd32(loc + 16) > 1) throw fail("multi-disk ZIP64 archives are not supported");
    const uint64_t z = rd64(loc + 8);
    if (!inside(z, kZip64EocdSize) || z + kZip64EocdSize > eocd - kZip64LocatorSize)
      throw fail("ZIP64 end-of-central-directory offset " + std::to_string(z) + " is out of range");
    const uint8_t* r = base + z;
    if (rd32(r) != kZip64EocdSig) throw fail("bad ZIP64 end-of-central-directory signature");
    if (rd32(r + 16) != 0 || rd32(r + 20) != 0) throw fail("multi-disk ZIP64 archives are not supported");
    n_entries = rd64(r + 32);
    if (rd64(r + 24) != n_entries) throw fail("ZIP64 entry counts disagree");
    cd_size = rd64(r + 40);
    cd_offset = rd64(r + 48);
    cd_limit = z;
    zip64_ = true;
  } else if (n_entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    throw fail("end-of-central-directory needs ZIP64 values but there is no ZIP64 locator");
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
    throw fail("central directory [" + std::to_string(cd_offset) + ", +" + std::to_string(cd_size) +
               ") lies outside the file");
  if (n_entries > cd_size / kCentralSize)
    throw fail(std::to_string(n_entries) + " entries cannot fit in a " + std::to_string(cd_size) +
               "-byte central directory");

  // ---- central directory entries ----------------------------------------------------------------------------
  entries_.reserve(static_cast<size_t>(n_entries));
  uint64_t p = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < n_entries; ++i) {
    const std::string where = "central directory entry " + std::to_string(i);
    if (cd_end - p < kCentralSize) throw fail(where + " is truncated");
    const uint8_t* c = base + p;
    if (rd32(c) != kCentralSig) throw fail(where + " has a bad signature");
    const uint16_t flags = rd16(c + 8), method = rd16(c + 10);
    uint64_t csize = rd32(c + 20), usize = rd32(c + 24);
    const uint64_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
    uint64_t lho = rd32(c + 42);
    if (cd_end - p - kCentralSize < name_len + extra_len + comment_len) throw fail(where + " is truncated");
    ZipEntry ent;
    ent.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    ent.crc32 = rd32(c + 16);
    const std::string what = "entry '" + ent.name + "'";
    if (flags & 0x41) throw fail(what + " is encrypted");
    if (method != 0)
      throw fail(what + " is compressed (method " + std::to_string(method) +
                 "); only stored entries are supported, as torch.save writes them");
    // ZIP64 extended information: the 8-byte values follow, in this order, for each field saturated above.
    const uint8_t* x = c + kCentralSize + name_len;
    for (uint64_t q = 0; q + 4 <= extra_len;) {
      const uint16_t id = rd16(x + q), len = rd16(x + q + 2);
      if (q + 4 + len > extra_len) throw fail(what + ": extra field overruns its header");
      if (id == 0x0001) {
        const uint8_t* v = x + q + 4;
        uint64_t left = len;
        for (uint64_t* field : {&usize, &csize, &lho}) {
          if (*field != 0xFFFFFFFF) continue;
          if (left < 8) throw fail(what + ": ZIP64 extra field is too short");
          *field = rd64(v);
          v += 8;
          left -= 8;
        }
      }
      q += 4 + len;
    }
    if (usize == 0xFFFFFFFF || csize == 0xFFFFFFFF || lho == 0xFFFFFFFF)
      throw fail(what + " needs ZIP64 values but has no ZIP64 extra field");
    if (csize != usize)
      throw fail(what + ": stored size " + std::to_string(csize) + " != uncompressed size " + std::to_string(usize));
    // Local header: its name and extra field decide where the data starts.
    if (!inside(lho, kLocalSize) || lho + kLocalSize > cd_offset)
      throw fail(what + ": local header offset " + std::to_string(lho) + " is out of range");
    const uint8_t* l = base + lho;
    if (rd32(l) != kLocalSig) throw fail(what + ": bad local header signature at offset " + std::to_string(lho));
    if (rd16(l + 8) != 0) throw fail(what + ": local header says the entry is compressed");
    const uint64_t lname = rd16(l + 26), lextra = rd16(l + 28);
    ent.header_offset = lho;
    ent.data_offset = lho + kLocalSize + lname + lextra;
    ent.size = usize;
    if (ent.data_offset > cd_offset || ent.size > cd_offset - ent.data_offset)
      throw fail(what + ": data [" + std::to_string(ent.data_offset) + ", +" + std::to_string(ent.size) +
                 ") runs past the start of the central directory");
    if (lname != name_len || !std::equal(l + kLocalSize, l + kLocalSize + lname, c + kCentralSize))
      throw fail(what + ": local header name differs from the central directory");
    if (!index_.emplace(ent.name, entries_.size()).second) throw fail("duplicate " + what);
    entries_.push_back(std::move(ent));
    p += kCentralSize + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const ZipEntry& ZipReader::get(const std::string& name) const {
  const ZipEntry* e = find(name);
  if (!e) throw Error("entry '" + name + "' not found in zip archive '" + name_ + "'");
  return *e;
}

bool ZipReader::crc_ok(const ZipEntry& e) const {
  const uLong crc = crc32_z(crc32_z(0L, Z_NULL, 0), data(e), static_cast<z_size_t>(e.size));
  return static_cast<uint32_t>(crc) == e.crc32;
}

void ZipReader::check_crc(const ZipEntry& e) const {
  if (!crc_ok(e)) throw Error("zip archive '" + name_ + "': CRC32 mismatch in entry '" + e.name + "' (corrupted)");
}

}  // namespace sam3

// Unit tests for the zip reader and writer (io/zip_reader.h, io/zip_writer.h): round trips with alignment, ZIP64
// structures (forced on small files, and naturally from >= 65535 entries), refusal of compressed / encrypted /
// duplicate entries, bounds violations in every structure, truncation, and random corruption.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/zip_reader.h"
#include "io/zip_writer.h"

using namespace sam3;

namespace {

std::string tmp(const std::string& name) {
  return ::testing::TempDir() + "sam3_zip_" + std::to_string(getpid()) + "_" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

uint64_t rd(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(b[at + static_cast<size_t>(i)])} << (8 * i);
  return v;
}

void wr(std::string& b, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
}

// Deterministic test payloads (never containing a "PK" signature by chance: bytes stay below 'P').
std::string payload(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed * 7) % 67);
  return s;
}

const std::vector<std::pair<std::string, std::string>>& sample() {
  static const std::vector<std::pair<std::string, std::string>> s = {
      {"arch/data.pkl", payload(100, 1)}, {"arch/data/0", payload(1000, 2)}, {"arch/data/1", ""},
      {"arch/data/2", payload(3, 3)},     {"arch/version", "3\n"},
  };
  return s;
}

std::string write_sample(const std::string& name, ZipWriter::Options opt = {}) {
  const std::string path = tmp(name);
  ZipWriter w(path, opt);
  for (const auto& [n, d] : sample()) {
    if (n == "arch/data/0") {  // streamed in uneven chunks
      w.begin_entry(n, d.size());
      for (size_t off = 0; off < d.size(); off += 333) w.write(d.data() + off, std::min<size_t>(333, d.size() - off));
      w.end_entry();
    } else {
      w.add_entry(n, d.data(), d.size());
    }
  }
  w.finish();
  return path;
}

void check_sample(const ZipReader& z, uint64_t alignment) {
  ASSERT_EQ(z.entries().size(), sample().size());
  for (const auto& [n, d] : sample()) {
    const ZipEntry& e = z.get(n);
    EXPECT_EQ(e.size, d.size()) << n;
    EXPECT_EQ(e.data_offset % alignment, 0u) << n;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(z.data(e)), e.size), d) << n;
    EXPECT_TRUE(z.crc_ok(e)) << n;
  }
  EXPECT_EQ(z.find("arch/missing"), nullptr);
  EXPECT_THROW(z.get("arch/missing"), Error);
}

// Parses an archive held in memory; returns the error message, or "" if it parsed.
std::string error_of(const std::string& bytes) {
  try {
    ZipReader z(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem.zip");
    // A successful parse must only hand out in-bounds entries.
    for (const ZipEntry& e : z.entries()) {
      if (e.data_offset > z.size() || e.size > z.size() - e.data_offset) return "OUT OF BOUNDS";
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Offsets in a sample archive written without ZIP64: EOCD at the end (no comment), central directory from it.
struct Layout {
  size_t eocd, cd;
};
Layout layout(const std::string& b) {
  Layout l;
  l.eocd = b.size() - 22;
  l.cd = static_cast<size_t>(rd(b, l.eocd + 16, 4));
  return l;
}

}  // namespace

TEST(Zip, RoundTripAligned) {
  const std::string path = write_sample("plain.zip");
  ZipReader z = ZipReader::open(path);
  EXPECT_FALSE(z.zip64());
  check_sample(z, 64);
  // Zero-copy: entry bytes point into the mapping.
  const ZipEntry& e = z.get("arch/data/0");
  EXPECT_EQ(z.data(e), static_cast<const MappedFile*>(z.keepalive().get())->data() + e.data_offset);
  std::remove(path.c_str());
}

TEST(Zip, RoundTripOtherAlignment) {
  ZipWriter::Options opt;
  opt.alignment = 4096;
  const std::string path = write_sample("align4k.zip", opt);
  check_sample(ZipReader::open(path), 4096);
  std::remove(path.c_str());
}

TEST(Zip, ForcedZip64Structures) {
  ZipWriter::Options opt;
  opt.force_zip64 = true;
  const std::string path = write_sample("z64.zip", opt);
  ZipReader z = ZipReader::open(path);
  EXPECT_TRUE(z.zip64());
  check_sample(z, 64);
  // Every 32-bit field is saturated: the values really come from the ZIP64 records.
  const std::string b = slurp(path);
  EXPECT_EQ(rd(b, b.size() - 22 + 16, 4), 0xFFFFFFFFu);
  EXPECT_EQ(rd(b, b.size() - 22 + 10, 2), 0xFFFFu);
  EXPECT_EQ(rd(b, b.size() - 42, 4), 0x07064b50u) << "ZIP64 locator before the EOCD";

  // ZIP64 locator pointing outside the file / at garbage.
  std::string bad = b;
  wr(bad, b.size() - 42 + 8, 1u << 30, 8);
  EXPECT_NE(error_of(bad).find("ZIP64 end-of-central-directory offset"), std::string::npos);
  bad = b;
  wr(bad, rd(b, b.size() - 42 + 8, 8), 0x12345678, 4);
  EXPECT_NE(error_of(bad).find("bad ZIP64"), std::string::npos);
  // ZIP64 central-directory offset beyond the file.
  bad = b;
  wr(bad, rd(b, b.size() - 42 + 8, 8) + 48, uint64_t{1} << 40, 8);
  EXPECT_NE(error_of(bad).find("outside the file"), std::string::npos);
  // A ZIP64 extra field too short for the saturated fields.
  bad = b;
  const size_t cd = static_cast<size_t>(rd(b, rd(b, b.size() - 42 + 8, 8) + 48, 8));
  const size_t name_len = static_cast<size_t>(rd(b, cd + 28, 2));
  wr(bad, cd + 46 + name_len + 2, 8, 2);  // claims 8 bytes where 24 are needed (sizes + offset)
  EXPECT_NE(error_of(bad).find("ZIP64 extra field is too short"), std::string::npos);
  // Saturated EOCD without a locator.
  bad = b;
  wr(bad, b.size() - 42, 0, 4);
  EXPECT_NE(error_of(bad).find("no ZIP64 locator"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Zip, Zip64FromEntryCount) {
  const std::string path = tmp("many.zip");
  ZipWriter::Options opt;
  opt.alignment = 1;
  {
    ZipWriter w(path, opt);
    for (int i = 0; i < 70000; ++i) {
      const std::string d = std::to_string(i);
      w.add_entry("d/" + std::to_string(i), d.data(), d.size());
    }
    w.finish();
  }
  ZipReader z = ZipReader::open(path);
  EXPECT_TRUE(z.zip64());
  ASSERT_EQ(z.entries().size(), 70000u);
  const ZipEntry& e = z.get("d/69999");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(z.data(e)), e.size), "69999");
  std::remove(path.c_str());
}

TEST(Zip, RefusesCompressedEncryptedDuplicate) {
  const std::string b = slurp(write_sample("base.zip"));
  const Layout l = layout(b);
  std::string bad = b;
  wr(bad, l.cd + 10, 8, 2);  // central: deflate
  const std::string err = error_of(bad);
  EXPECT_NE(err.find("entry 'arch/data.pkl' is compressed (method 8)"), std::string::npos) << err;
  EXPECT_NE(err.find("'mem.zip'"), std::string::npos) << "names the archive";
  bad = b;
  wr(bad, 8, 8, 2);  // local header of the first entry: deflate
  EXPECT_NE(error_of(bad).find("compressed"), std::string::npos);
  bad = b;
  wr(bad, l.cd + 8, 1, 2);  // encrypted flag
  EXPECT_NE(error_of(bad).find("encrypted"), std::string::npos);
  {
    ZipWriter w(tmp("dup.zip"));
    w.add_entry("a", "x", 1);
    w.add_entry("a", "y", 1);
    w.finish();
  }
  EXPECT_NE(error_of(slurp(tmp("dup.zip"))).find("duplicate entry 'a'"), std::string::npos);
  for (const char* n : {"base.zip", "dup.zip"}) std::remove(tmp(n).c_str());
}

TEST(Zip, BoundsViolations) {
  const std::string b = slurp(write_sample("base2.zip"));
  const Layout l = layout(b);
  struct Case {
    size_t at;
    uint64_t value;
    int n;
    std::string expect;
  };
  const size_t name0 = static_cast<size_t>(rd(b, l.cd + 28, 2));
  const size_t second = l.cd + 46 + name0;  // second central entry (arch/data/0, 1000 bytes)
  const Case cases[] = {
      {l.eocd + 16, 0xFFFFFF00, 4, "outside the file"},              // central directory offset
      {l.eocd + 12, 0x7FFFFFFF, 4, "outside the file"},              // central directory size
      {l.eocd + 10, 5000, 2, "cannot fit"},                          // absurd entry count
      {l.eocd + 10, 6, 2, "truncated"},                              // one more entry than present
      {l.eocd + 4, 1, 2, "multi-disk"},
      {l.cd, 0x12345678, 4, "bad signature"},
      {l.cd + 42, 0xFFFFFF00, 4, "local header offset"},             // local header offset
      {l.cd + 42, 1, 4, "bad local header signature"},
      {second + 20, 1u << 30, 4, "stored size"},                      // compressed != uncompressed
      {second + 20, 1u << 30, 8, "runs past"},                       // both sizes huge
      {second + 24, 1001, 4, "stored size"},
      {l.cd + 28, 0xFFFF, 2, "truncated"},                           // name length runs past the directory
      {l.cd + 30, 0x4000, 2, "truncated"},                           // extra length runs past the directory
      {l.cd + 46, 'X', 1, "local header name differs"},              // name differs from the local header
      {l.cd + 16, 0, 4, ""},                                         // CRC field: parse succeeds, crc_ok fails
  };
  for (const Case& c : cases) {
    std::string bad = b;
    wr(bad, c.at, c.value, c.n);
    if (c.n == 8) {  // both 32-bit size fields
      wr(bad, c.at, c.value, 4);
      wr(bad, c.at + 4, c.value, 4);
    }
      const std::string err = error_of(bad);
    if (c.expect.empty()) {
      EXPECT_EQ(err, "");
    } else {
      EXPECT_NE(err.find(c.expect), std::string::npos) << "patch at " << c.at << ": '" << err << "'";
    }
  }
  // Local header's own extra length pushes the data past the central directory.
  std::string bad = b;
  const size_t lho = static_cast<size_t>(rd(b, second + 42, 4));
  wr(bad, lho + 28, 0xFFFF, 2);
  EXPECT_NE(error_of(bad).find("runs past the start of the central directory"), std::string::npos);
  // A corrupted data byte is caught by the CRC check.
  bad = b;
  bad[static_cast<size_t>(ZipReader::open(tmp("base2.zip")).get("arch/data/0").data_offset) + 10] ^= 1;
  spit(tmp("bad.zip"), bad);
  ZipReader z = ZipReader::open(tmp("bad.zip"));
  EXPECT_FALSE(z.crc_ok(z.get("arch/data/0")));
  EXPECT_THROW(z.check_crc(z.get("arch/data/0")), Error);
  EXPECT_NO_THROW(z.check_crc(z.get("arch/data/2")));
  std::remove(tmp("bad.zip").c_str());
  std::remove(tmp("base2.zip").c_str());
}

TEST(Zip, NotAZipAndTruncation) {
  EXPECT_NE(error_of("").find("too small"), std::string::npos);
  EXPECT_NE(error_of(std::string(1000, 'a')).find("no end-of-central-directory"), std::string::npos);
  const std::string b = slurp(write_sample("base3.zip"));
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_NE(error_of(b.substr(0, n)), "") << "prefix of " << n << " bytes parsed";
  }
  std::remove(tmp("base3.zip").c_str());
}

// Random corruption, half of it aimed at the central directory and end records. Each variant must parse to in-bounds
// entries or throw sam3::Error.
TEST(Zip, RandomCorruption) {
  const std::string b = slurp(write_sample("base4.zip"));
  ZipWriter::Options opt;
  opt.force_zip64 = true;
  const std::string b64 = slurp(write_sample("base4_64.zip", opt));
  std::mt19937 rng(7);
  int ok = 0, rejected = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string v = iter % 2 ? b64 : b;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      // Half the edits land in the last 200 bytes (central directory and end records).
      const size_t at = (rng() % 2) ? v.size() - 1 - rng() % std::min<size_t>(200, v.size()) : rng() % v.size();
      v[at] = static_cast<char>(rng() % 3 == 0 ? 0xFF : rng());
    }
      const std::string err = error_of(v);
    ASSERT_NE(err, "OUT OF BOUNDS");
    (err.empty() ? ok : rejected)++;
  }
  std::printf("corruptions: %d parsed, %d rejected\n", ok, rejected);
  EXPECT_GT(rejected, 5000);
  for (const char* n : {"base4.zip", "base4_64.zip"}) std::remove(tmp(n).c_str());
}

TEST(Zip, WriterMisuse) {
  const std::string path = tmp("misuse.zip");
  {
    ZipWriter w(path);
    w.begin_entry("a", 4);
    w.write("ab", 2);
    EXPECT_THROW(w.write("abc", 3), Error);  // past the declared size
    EXPECT_THROW(w.end_entry(), Error);      // short
    EXPECT_THROW(w.finish(), Error);         // inside an entry
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "an unfinished archive is removed";
  EXPECT_THROW(ZipWriter("/nonexistent_dir_sam3/x.zip"), Error);
}

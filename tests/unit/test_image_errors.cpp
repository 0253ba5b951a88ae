// Robustness of image decoding: every bad input (empty, text, truncated, corrupted, absurdly large) must end in a
// sam3::Error with a clear message, never a crash, an exit() from libjpeg/libpng, or another exception type.
// The bad files are built here from the fixture JPEG and from PNGs assembled byte by byte.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "fixture.h"
#include "io/image_decode.h"
#include "io/image_encode.h"

namespace sam3 {
namespace {

std::vector<uint8_t> fixture_jpeg() {
  std::ifstream f(test::golden_path("images/test_image.jpg"), std::ios::binary);
  EXPECT_TRUE(f.good());
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Decodes and returns the sam3::Error message ("" if it decoded). Any other exception fails the test.
std::string decode_error(const std::vector<uint8_t>& data, size_t size, const DecodeOptions& opts = {}) {
  try {
    decode_image(data.data(), size, opts, "bad-input");
    return "";
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-sam3 exception: " << e.what();
    return "other exception";
  }
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "sam3_image_errors_" + name;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// ---- PNG assembled by hand ----------------------------------------------------------------------------------------

void put_u32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

void put_chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  put_u32(png, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put_u32(png, static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

// An 8-bit RGB PNG header claiming width x height, followed by a tiny (valid zlib, far too short) IDAT and IEND.
std::vector<uint8_t> png_claiming(uint32_t width, uint32_t height) {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, width);
  put_u32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // bit depth 8, RGB, deflate, filter 0, no interlace
  put_chunk(png, "IHDR", ihdr);
  std::vector<uint8_t> raw(16, 0), z(64);
  uLongf zlen = static_cast<uLongf>(z.size());
  compress(z.data(), &zlen, raw.data(), static_cast<uLong>(raw.size()));
  z.resize(zlen);
  put_chunk(png, "IDAT", z);
  put_chunk(png, "IEND", {});
  return png;
}

std::vector<uint8_t> small_png() {
  Image img = Image::allocate(20, 30);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 13);
  return encode_png(img);
}

// ---- tests --------------------------------------------------------------------------------------------------------

TEST(ImageErrors, EmptyInput) {
  const std::string msg = decode_error({}, 0);
  EXPECT_TRUE(contains(msg, "empty")) << msg;
  EXPECT_TRUE(contains(msg, "bad-input")) << msg;
}

TEST(ImageErrors, ZeroByteFileNamesThePath) {
  const std::string path = temp_path("empty.jpg");
  write_file(path, {});
  try {
    decode_image_file(path);
    FAIL() << "decoded an empty file";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), path)) << e.what();
    EXPECT_TRUE(contains(e.what(), "empty")) << e.what();
  }
  std::remove(path.c_str());
}

TEST(ImageErrors, MissingFileNamesThePath) {
  const std::string path = temp_path("does_not_exist.png");
  try {
    decode_image_file(path);
    FAIL() << "decoded a missing file";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), path)) << e.what();
  }
}

TEST(ImageErrors, TextAndOtherFormats) {
  const std::string text = "This is a text file, not an image.\n";
  const std::vector<uint8_t> t(text.begin(), text.end());
  const std::string msg = decode_error(t, t.size());
  EXPECT_TRUE(contains(msg, "not a JPEG or PNG")) << msg;

  const std::string path = temp_path("notes.txt");
  write_file(path, t);
  EXPECT_THROW(decode_image_file(path), Error);
  std::remove(path.c_str());

  const std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
  EXPECT_TRUE(contains(decode_error(gif, gif.size()), "GIF")) << decode_error(gif, gif.size());
  EXPECT_THROW(probe_image(t.data(), t.size()), Error);
}

TEST(ImageErrors, TruncatedJpegAtManyPoints) {
  const std::vector<uint8_t> jpg = fixture_jpeg();
  ASSERT_GT(jpg.size(), 1000u);
  // From inside the headers to just before the end marker: PIL raises "image file is truncated" for all of these.
  const size_t n = jpg.size();
  for (size_t cut : {size_t{3}, size_t{10}, size_t{100}, size_t{300}, size_t{1000}, n / 10, n / 4, n / 2, 3 * n / 4,
                     n - 100, n - 2}) {
    const std::string msg = decode_error(jpg, cut);
    EXPECT_TRUE(contains(msg, "truncated")) << "cut at " << cut << ": '" << msg << "'";
  }
  EXPECT_TRUE(contains(decode_error(jpg, 2), "not a JPEG or PNG"));  // too short to even recognise
  EXPECT_EQ(decode_error(jpg, n), "");                                // the whole file is fine
}

TEST(ImageErrors, CorruptJpegHeaders) {
  std::vector<uint8_t> jpg = fixture_jpeg();
  // Locate the SOF0 / DHT markers of the baseline fixture.
  size_t sof = 0, dht = 0;
  for (size_t i = 2; i + 1 < jpg.size(); ++i) {
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0 && !sof) sof = i;
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC4 && !dht) dht = i;
  }
  ASSERT_GT(sof, 0u);
  ASSERT_GT(dht, 0u);

  std::vector<uint8_t> zero_height = jpg;  // SOF: FF C0 len(2) precision(1) height(2) width(2)
  zero_height[sof + 5] = zero_height[sof + 6] = 0;
  EXPECT_NE(decode_error(zero_height, zero_height.size()), "");

  std::vector<uint8_t> bad_precision = jpg;
  bad_precision[sof + 4] = 12;  // 12-bit samples: rejected (PIL rejects them too)
  EXPECT_NE(decode_error(bad_precision, bad_precision.size()), "");

  std::vector<uint8_t> bad_huffman = jpg;  // DHT: FF C4 len(2) class/id(1) counts(16): claim 255 codes of length 1
  for (int i = 0; i < 16; ++i) bad_huffman[dht + 5 + i] = 0xFF;
  EXPECT_NE(decode_error(bad_huffman, bad_huffman.size()), "");
}

TEST(ImageErrors, JpegClaimingHugeSizeIsRejectedFromTheHeader) {
  std::vector<uint8_t> jpg = fixture_jpeg();
  size_t sof = 0;
  for (size_t i = 2; i + 1 < jpg.size() && !sof; ++i)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) sof = i;
  ASSERT_GT(sof, 0u);
  jpg[sof + 5] = jpg[sof + 7] = 0xEA;  // 60000 x 60000 (0xEA60)
  jpg[sof + 6] = jpg[sof + 8] = 0x60;
  const std::string msg = decode_error(jpg, jpg.size());
  EXPECT_TRUE(contains(msg, "too large")) << msg;
  EXPECT_TRUE(contains(msg, "max_pixels")) << msg;
  // The header alone is still readable.
  const ImageInfo info = probe_image(jpg.data(), jpg.size());
  EXPECT_EQ(info.width, 60000);
  EXPECT_EQ(info.height, 60000);
}

TEST(ImageErrors, RandomByteFlipsNeverCrash) {
  const std::vector<uint8_t> jpg = fixture_jpeg(), png = small_png();
  std::mt19937 rng(2024);
  int decoded = 0, rejected = 0;
  for (const std::vector<uint8_t>* src : {&jpg, &png}) {
    for (int trial = 0; trial < 150; ++trial) {
      std::vector<uint8_t> bad = *src;
      const int flips = 1 + trial % 6;
      for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      // Each variant either decodes to an image of the size its header gives (pixels all there), or is refused
      // with a sam3::Error that names the input; decode_error fails the test on any other exception.
      try {
        const Image img = decode_image(bad.data(), bad.size(), {}, "bad-input");
        const ImageInfo info = probe_image(bad.data(), bad.size(), "bad-input");
        EXPECT_EQ(img.width, info.width) << "trial " << trial;
        EXPECT_EQ(img.height, info.height) << "trial " << trial;
        EXPECT_EQ(static_cast<int64_t>(img.pixels.size()), img.width * img.height * 3) << "trial " << trial;
        ++decoded;
      } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), "bad-input")) << "trial " << trial << ": " << e.what();
        ++rejected;
      }
    }
  }
  // Corrupt entropy-coded data only warns in libjpeg (PIL ignores those warnings too), so many flips still decode;
  // corrupt headers and PNG CRCs do not. Both outcomes occur with this seed.
  EXPECT_GT(decoded, 0);
  EXPECT_GT(rejected, 0);
}

// A progressive JPEG whose last scan is repeated 1000 times: each scan is a pass over the whole image (libjpeg-turbo's
// known CPU DoS with small files), so more than DecodeOptions::max_jpeg_scans scans is an error; the original decodes.
TEST(ImageErrors, ProgressiveJpegWithTooManyScansIsRefused) {
  std::ifstream f(std::string(SAM3_SOURCE_DIR) + "/fuzz/corpus/image/rgb_progressive.jpg", std::ios::binary);
  ASSERT_TRUE(f.good());
  const std::vector<uint8_t> jpg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(decode_error(jpg, jpg.size()), "");
  size_t last_sos = 0, eoi = 0;
  for (size_t i = 2; i + 1 < jpg.size(); ++i) {
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xDA) last_sos = i;
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xD9) eoi = i;
  }
  ASSERT_GT(last_sos, 0u);
  ASSERT_GT(eoi, last_sos);
  std::vector<uint8_t> many(jpg.begin(), jpg.begin() + static_cast<std::ptrdiff_t>(eoi));
  for (int k = 0; k < 1000; ++k)
    many.insert(many.end(), jpg.begin() + static_cast<std::ptrdiff_t>(last_sos),
                jpg.begin() + static_cast<std::ptrdiff_t>(eoi));
  many.insert(many.end(), jpg.begin() + static_cast<std::ptrdiff_t>(eoi), jpg.end());
  const std::string msg = decode_error(many, many.size());
  EXPECT_TRUE(contains(msg, "more than 100 scans")) << msg;
  DecodeOptions lots;
  lots.max_jpeg_scans = 2000;
  EXPECT_EQ(decode_error(many, many.size(), lots), "");  // the limit is a setting
}

TEST(ImageErrors, PngClaimingHugeSizeIsRejectedFromTheHeader) {
  const std::vector<uint8_t> png = png_claiming(100000, 100000);
  const std::string msg = decode_error(png, png.size());
  EXPECT_TRUE(contains(msg, "too large")) << msg;
  EXPECT_TRUE(contains(msg, "100000x100000")) << msg;
  const ImageInfo info = probe_image(png.data(), png.size());
  EXPECT_EQ(info.format, ImageFormat::Png);
  EXPECT_EQ(info.width, 100000);

  // The limit is a parameter: a 64x64 image against a 4000-pixel limit.
  DecodeOptions opts;
  opts.max_pixels = 4000;
  const std::vector<uint8_t> small = png_claiming(64, 64);
  EXPECT_TRUE(contains(decode_error(small, small.size(), opts), "max_pixels"));
  opts.max_pixels = 0;
  EXPECT_NE(decode_error(small, small.size(), opts), "");
}

TEST(ImageErrors, PngWithTooLittleImageData) {
  // A valid header for 64x64 but IDAT holding 16 bytes: libpng reports the missing data, we throw.
  const std::vector<uint8_t> png = png_claiming(64, 64);
  EXPECT_NE(decode_error(png, png.size()), "");
}

TEST(ImageErrors, TruncatedAndCorruptPng) {
  const std::vector<uint8_t> png = small_png();
  ASSERT_EQ(decode_error(png, png.size()), "");
  for (size_t cut : {size_t{8}, size_t{20}, size_t{33}, size_t{40}, png.size() / 2, png.size() - 13}) {
    const std::string msg = decode_error(png, cut);
    EXPECT_NE(msg, "") << "cut at " << cut;
  }
  EXPECT_TRUE(contains(decode_error(png, png.size() / 2), "truncated")) << decode_error(png, png.size() / 2);

  std::vector<uint8_t> bad_crc = png;  // flip a bit of the IHDR width: CRC mismatch in a critical chunk
  bad_crc[16 + 3] ^= 0x01;
  EXPECT_TRUE(contains(decode_error(bad_crc, bad_crc.size()), "CRC")) << decode_error(bad_crc, bad_crc.size());

  std::vector<uint8_t> bad_sig = png;
  bad_sig[1] = 'X';
  EXPECT_NE(decode_error(bad_sig, bad_sig.size()), "");
}

}  // namespace
}  // namespace sam3

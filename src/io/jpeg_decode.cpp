// sam3.cpp — JPEG decoding with libjpeg-turbo, matching PIL's JpegDecode.c settings (see io/image_decode.h).
//
// libjpeg reports fatal errors through error_exit, which must not return: we longjmp back to the C-style frame that
// called into libjpeg (jpeg_header_c / jpeg_pixels_c below). Those frames hold no C++ objects with destructors, so
// the jump skips nothing but libjpeg's own C frames; the libjpeg object itself is owned by the caller (JpegDecoder)
// and destroyed there on every path.
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t
#include <cstring>
#include <string>
#include <vector>

#include <jerror.h>
#include <jpeglib.h>

#include "core/error.h"
#include "io/image_decode.h"

namespace sam3 {
namespace {

struct JpegErrorState {
  jpeg_error_mgr mgr;  // first member: libjpeg hands us a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error_exit(j_common_ptr cinfo) {
  auto* st = reinterpret_cast<JpegErrorState*>(cinfo->err);
  cinfo->err->format_message(cinfo, st->message);
  std::longjmp(st->jump, 1);
}

// Warnings (level -1) and trace messages (level >= 0). A premature end of data is fatal (PIL raises "image file is
// truncated"); other corrupt-data warnings are ignored as PIL ignores them.
void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  cinfo->err->num_warnings++;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    auto* st = reinterpret_cast<JpegErrorState*>(cinfo->err);
    std::snprintf(st->message, sizeof st->message, "truncated JPEG data (premature end of file)");
    std::longjmp(st->jump, 1);
  }
}

void on_output_message(j_common_ptr) {}  // never print to stderr

// Progress monitor: called by libjpeg as it reads; stops a progressive JPEG with too many scans (each scan is a
// pass over the whole coefficient buffer) through the same longjmp as a fatal error.
struct JpegProgress {
  jpeg_progress_mgr mgr;  // first member: libjpeg hands us a pointer to it
  int max_scans = 0;
};

void on_progress(j_common_ptr cinfo) {
  const auto* pr = reinterpret_cast<const JpegProgress*>(cinfo->progress);
  const auto* d = reinterpret_cast<const jpeg_decompress_struct*>(cinfo);
  if (cinfo->is_decompressor && d->input_scan_number > pr->max_scans) {
    auto* st = reinterpret_cast<JpegErrorState*>(cinfo->err);
    std::snprintf(st->message, sizeof st->message, "more than %d scans (a progressive JPEG this slow to decode is "
                  "refused)", pr->max_scans);
    std::longjmp(st->jump, 1);
  }
}

// Creates the decompressor (it allocates, so it can fail through error_exit too).
bool jpeg_create_c(jpeg_decompress_struct* cinfo, JpegErrorState* st) {
  if (setjmp(st->jump)) return false;
  jpeg_create_decompress(cinfo);
  return true;
}

// Reads the header. Returns false with st->message set on failure. No C++ objects live in this frame.
bool jpeg_header_c(jpeg_decompress_struct* cinfo, JpegErrorState* st, const uint8_t* data, size_t size) {
  if (setjmp(st->jump)) return false;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
    std::snprintf(st->message, sizeof st->message, "no image in JPEG data");
    return false;
  }
  return true;
}

// Decodes all scanlines into rows of `row_stride` bytes starting at `out` (out_color_space components per pixel).
// Returns false with st->message set on failure. No C++ objects live in this frame.
bool jpeg_pixels_c(jpeg_decompress_struct* cinfo, JpegErrorState* st, uint8_t* out, size_t row_stride) {
  if (setjmp(st->jump)) return false;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + static_cast<size_t>(cinfo->output_scanline) * row_stride;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      std::snprintf(st->message, sizeof st->message, "JPEG decoder returned no scanline");
      return false;
    }
  }
  // Deliberately no jpeg_finish_decompress: all pixels are in; data after the last scan (or a missing EOI marker)
  // does not change them.
  return true;
}

// Owns the libjpeg object; destroys it on every path.
struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  JpegErrorState err;
  JpegProgress progress{};
  std::string name;
  bool created = false;

  explicit JpegDecoder(std::string n) : name(std::move(n)) {
    std::memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_error_exit;
    err.mgr.emit_message = on_emit_message;
    err.mgr.output_message = on_output_message;
    err.message[0] = '\0';
    created = jpeg_create_c(&cinfo, &err);
    if (!created) fail("init");
  }
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  [[noreturn]] void fail(const char* stage) const {
    throw Error("cannot decode JPEG '" + name + "' (" + stage + "): " + err.message);
  }
};

// PIL's MULDIV255(a, b) = round(a*b/255) in integer arithmetic (Pillow src/libImaging/ImagingUtils.h).
inline int muldiv255(int a, int b) {
  int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

}  // namespace

ImageInfo probe_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  JpegDecoder dec(name);
  if (!jpeg_header_c(&dec.cinfo, &dec.err, data, size)) dec.fail("header");
  ImageInfo info;
  info.format = ImageFormat::Jpeg;
  info.width = dec.cinfo.image_width;
  info.height = dec.cinfo.image_height;
  return info;
}

// ref: PIL JpegImagePlugin.py (SOF: mode from the layer count; "CMYK;I" rawmode) + JpegDecode.c (decoder settings)
Image decode_jpeg(const uint8_t* data, size_t size, const DecodeOptions& opts, const std::string& name) {
  if (size == 0) throw Error("cannot decode JPEG '" + name + "': empty input");
  JpegDecoder dec(name);
  jpeg_decompress_struct& ci = dec.cinfo;
  if (!jpeg_header_c(&ci, &dec.err, data, size)) dec.fail("header");

  const int64_t width = ci.image_width, height = ci.image_height;
  check_decode_size("JPEG", name, width, height, opts);

  // PIL picks the mode from the number of components in the SOF marker and trusts libjpeg's colour-space guess.
  int components = 0;
  switch (ci.num_components) {
    case 1:
      ci.out_color_space = JCS_GRAYSCALE;
      components = 1;
      break;
    case 3:
      ci.out_color_space = JCS_RGB;
      components = 3;
      break;
    case 4:
      ci.out_color_space = JCS_CMYK;  // libjpeg converts YCCK to CMYK itself
      components = 4;
      break;
    default:
      throw Error("cannot decode JPEG '" + name + "': " + std::to_string(ci.num_components) +
                  "-component images are not supported (PIL rejects them too)");
  }
  dec.progress.mgr.progress_monitor = on_progress;
  dec.progress.max_scans = opts.max_jpeg_scans;
  ci.progress = &dec.progress.mgr;
  // PIL's defaults (it only changes them in draft mode): accurate integer IDCT, fancy (smooth) chroma upsampling.
  ci.dct_method = JDCT_ISLOW;
  ci.do_fancy_upsampling = TRUE;

  Image img = Image::allocate(height, width);
  if (components == 3) {
    if (!jpeg_pixels_c(&ci, &dec.err, img.pixels.data(), static_cast<size_t>(img.row_bytes()))) dec.fail("pixels");
    return img;
  }

  std::vector<uint8_t> raw(static_cast<size_t>(width * height * components));
  if (!jpeg_pixels_c(&ci, &dec.err, raw.data(), static_cast<size_t>(width * components))) dec.fail("pixels");
  const int64_t n = width * height;
  uint8_t* out = img.pixels.data();
  if (components == 1) {
    for (int64_t i = 0; i < n; ++i) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = raw[i];  // PIL l2rgb
  } else {
    // PIL unpacks "CMYK;I" (every byte inverted), then cmyk2rgb: nk = 255 - K; out = clip(nk - MULDIV255(C, nk)).
    // With the raw libjpeg bytes c, k: C = 255 - c and nk = k.
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* p = &raw[4 * i];
      const int nk = p[3];
      for (int c = 0; c < 3; ++c) {
        int v = nk - muldiv255(255 - p[c], nk);
        out[3 * i + c] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
      }
    }
  }
  return img;
}

}  // namespace sam3

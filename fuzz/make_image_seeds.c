/* sam3.cpp — writes the small JPEG and PNG seeds of fuzz/corpus/image and fuzz/corpus/upload (run once, by hand):
 *   cc -O1 -o /tmp/make_image_seeds fuzz/make_image_seeds.c -ljpeg -lpng && /tmp/make_image_seeds fuzz/corpus/image
 * Baseline and progressive JPEG (RGB, greyscale, 4:2:0), PNG (RGB, grey, RGBA 16-bit, interlaced, palette). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

static unsigned char px(int x, int y, int c) { return (unsigned char)((x * 37 + y * 11 + c * 71) & 255); }

static void jpeg(const char* dir, const char* name, int w, int h, int comps, int progressive, int quality) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "wb");
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = comps;
  c.in_color_space = comps == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  unsigned char* row = malloc((size_t)(w * comps));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < comps; ++k) row[x * comps + k] = px(x, y, k);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  free(row);
  fclose(f);
}

static void png(const char* dir, const char* name, int w, int h, int color, int depth, int interlace) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "wb");
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(p);
  png_init_io(p, f);
  png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (color == PNG_COLOR_TYPE_PALETTE) {
    png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    png_set_PLTE(p, info, pal, 4);
  }
  png_write_info(p, info);
  int chans = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGBA ? 4 : 1;
  size_t rowbytes = png_get_rowbytes(p, info);
  png_bytep* rows = malloc(sizeof(png_bytep) * (size_t)h);
  for (int y = 0; y < h; ++y) {
    rows[y] = calloc(1, rowbytes);
    for (size_t b = 0; b < rowbytes; ++b)
      rows[y][b] = color == PNG_COLOR_TYPE_PALETTE ? (unsigned char)((b + y) % 4) : px((int)b, y, chans);
  }
  png_write_image(p, rows);
  png_write_end(p, info);
  png_destroy_write_struct(&p, &info);
  for (int y = 0; y < h; ++y) free(rows[y]);
  free(rows);
  fclose(f);
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : ".";
  jpeg(dir, "rgb_baseline.jpg", 16, 12, 3, 0, 75);
  jpeg(dir, "rgb_progressive.jpg", 17, 9, 3, 1, 50);
  jpeg(dir, "grey_baseline.jpg", 8, 8, 1, 0, 90);
  png(dir, "rgb8.png", 7, 5, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
  png(dir, "grey8.png", 9, 3, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE);
  png(dir, "rgba16_interlaced.png", 6, 6, PNG_COLOR_TYPE_RGBA, 16, PNG_INTERLACE_ADAM7);
  png(dir, "palette2.png", 10, 4, PNG_COLOR_TYPE_PALETTE, 2, PNG_INTERLACE_NONE);
  return 0;
}

// Fuzz target: the zip reader (io/zip_reader.h) over bytes in memory: the directory, every entry's data and CRC.
#include <cstdint>

#include "core/error.h"
#include "io/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    sam3::ZipReader zip(data, size, "fuzz.zip");
    for (const sam3::ZipEntry& e : zip.entries()) {
      try {
        zip.check_crc(e);
        (void)zip.find(e.name);
      } catch (const sam3::Error&) {
      }
    }
  } catch (const sam3::Error&) {
  }
  return 0;
}

// ref: https://github.com/huggingface/safetensors (format description)
#include "io/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/mmap_file.h"

namespace sam3 {

using nlohmann::json;

const Tensor& TensorFile::get(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("tensor '" + name + "' not found in " + source);
  return it->second;
}

TensorFile read_safetensors(const std::string& path) { return read_safetensors(MappedFile::open(path)); }

TensorFile read_safetensors(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  const uint8_t* base = file->data();
  const size_t size = file->size();
  auto fail = [&](const std::string& why) -> Error { return Error("malformed safetensors file '" + path + "': " + why); };
  if (size < 8) throw fail("shorter than the 8-byte header length");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | base[i];
  if (hlen > size - 8) throw fail("header length " + std::to_string(hlen) + " exceeds the file size");
  json header;
  try {
    header = json::parse(reinterpret_cast<const char*>(base + 8), reinterpret_cast<const char*>(base + 8 + hlen));
  } catch (const json::exception& e) {
    throw fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  const uint8_t* data = base + 8 + hlen;
  const size_t data_size = size - 8 - hlen;

  TensorFile out;
  out.source = path;
  out.keepalive = file;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw fail("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) throw fail("__metadata__ value for '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw fail("entry '" + name + "' lacks dtype/shape/data_offsets");
    if (!v["dtype"].is_string()) throw fail("entry '" + name + "': dtype is not a string");
    DType dt;
    if (!dtype_from_name(v["dtype"].get<std::string>(), &dt) || dt == DType::C64)
      throw fail("entry '" + name + "': unsupported dtype " + v["dtype"].dump());
    const json& js = v["shape"];
    if (!js.is_array()) throw fail("entry '" + name + "': shape is not an array");
    Shape shape;
    uint64_t numel = 1;
    for (const json& d : js) {
      if (!d.is_number_unsigned()) throw fail("entry '" + name + "': shape has a non-integer or negative dimension");
      uint64_t dim = d.get<uint64_t>();
      if (dim > (uint64_t{1} << 40)) throw fail("entry '" + name + "': absurd dimension " + std::to_string(dim));
      if (dim != 0 && numel > (uint64_t{1} << 48) / dim) throw fail("entry '" + name + "': too many elements");
      numel *= dim;
      shape.push_back(static_cast<int64_t>(dim));
    }
    const json& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail("entry '" + name + "': data_offsets must be two non-negative integers");
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size) throw fail("entry '" + name + "': data_offsets out of range");
    if (e - b != numel * dtype_size(dt))
      throw fail("entry '" + name + "': " + std::to_string(e - b) + " bytes do not match shape " + shape_str(shape));
    // Borrowed in place when the element type's alignment allows (our writer keeps every tensor 8-byte aligned);
    // a file with odd data_offsets gets an aligned copy: a misaligned float* is undefined behaviour.
    const size_t align = std::min<size_t>(dtype_size(dt), 8);
    if (reinterpret_cast<uintptr_t>(data + b) % align == 0) {
      out.tensors[name] = Tensor::borrow(const_cast<uint8_t*>(data + b), shape, dt, file);
    } else {
      Tensor copy = Tensor::empty(shape, dt);
      if (e > b) std::memcpy(copy.raw(), data + b, static_cast<size_t>(e - b));
      out.tensors[name] = copy;
    }
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsEntry> entries;
  std::vector<const Tensor*> data;
  for (const auto& [name, t] : tensors) {
    entries.push_back(SafetensorsEntry{name, t.dtype(), t.shape()});
    data.push_back(&t);
  }
  write_safetensors(path, entries, metadata, [&](size_t i) { return *data[i]; });
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata,
                       const std::function<Tensor(size_t index)>& fill) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const SafetensorsEntry& e : entries) {
    if (e.dtype == DType::C64) throw Error("write_safetensors: complex tensor '" + e.name + "' is not supported");
    if (e.name == "__metadata__" || header.contains(e.name))
      throw Error("write_safetensors: tensor name '" + e.name + "' is reserved or repeated");
    const uint64_t bytes = static_cast<uint64_t>(shape_numel(e.shape)) * dtype_size(e.dtype);
    header[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + bytes}}};
    sizes.push_back(bytes);
    offset += bytes;
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');  // keep the data 8-byte aligned
  AtomicFile f(path);  // a temporary file renamed over `path` at the end: never half written
  uint8_t len[8];
  uint64_t hl = h.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(hl >> (8 * i));
  f.write(len, 8);
  f.write(h.data(), h.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const Tensor t = fill(i);
    if (t.dtype() != entries[i].dtype || t.shape() != entries[i].shape)
      throw Error("write_safetensors: tensor '" + entries[i].name + "' is " + shape_str(t.shape()) + " " +
                  dtype_name(t.dtype()) + ", its header says " + shape_str(entries[i].shape) + " " +
                  dtype_name(entries[i].dtype));
    f.write(t.raw(), sizes[i]);
  }
  f.commit();
}

}  // namespace sam3

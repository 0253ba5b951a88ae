// ref: torch/serialization.py (_save: persistent_id, data.pkl, data/<key>, byteorder, version)
#include "io/torch_writer.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "io/pickle.h"

namespace sam3 {

namespace {

const char* storage_type(DType t) {
  switch (t) {
    case DType::F32: return "FloatStorage";
    case DType::F16: return "HalfStorage";
    case DType::BF16: return "BFloat16Storage";
    case DType::F64: return "DoubleStorage";
    case DType::I64: return "LongStorage";
    case DType::I32: return "IntStorage";
    case DType::I16: return "ShortStorage";
    case DType::I8: return "CharStorage";
    case DType::U8: return "ByteStorage";
    case DType::Bool: return "BoolStorage";
    case DType::C64: return "ComplexFloatStorage";
  }
  throw Error("torch writer: unknown dtype");
}

std::string default_archive(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base.empty() ? "archive" : base;
}

}  // namespace

std::string torch_state_dict_pickle(const std::vector<std::pair<std::string, std::pair<DType, Shape>>>& entries) {
  PickleWriter w;
  uint32_t memo = 0;
  std::map<std::string, uint32_t> globals;  // "module\nname" -> memo index
  auto global = [&](const std::string& module, const std::string& name) {
    auto it = globals.find(module + "\n" + name);
    if (it != globals.end()) {
      w.get(it->second);
      return;
    }
    w.global(module, name);
    w.put(memo);
    globals[module + "\n" + name] = memo++;
  };
  w.empty_dict();
  w.put(memo++);
  w.str("model");
  w.put(memo++);
  global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  w.put(memo++);
  constexpr size_t kBatch = 1000;  // CPython batches SETITEMS like this
  for (size_t b = 0; b < entries.size(); b += kBatch) {
    w.mark();
    for (size_t i = b; i < std::min(entries.size(), b + kBatch); ++i) {
      const std::string& key = entries[i].first;
      const DType dt = entries[i].second.first;
      const Shape& shape = entries[i].second.second;
      w.str(key);
      global("torch._utils", "_rebuild_tensor_v2");
      w.mark();
      // persistent id ('storage', torch.<Type>Storage, key, location, numel)
      w.mark();
      w.str("storage");
      global("torch", storage_type(dt));
      w.str(std::to_string(i));
      w.str("cpu");
      w.integer(shape_numel(shape));
      w.tuple();
      w.binpersid();
      w.integer(0);  // storage offset
      w.tuple_of(shape);
      Shape stride(shape.size());
      int64_t s = 1;
      for (size_t d = shape.size(); d-- > 0;) {
        stride[d] = s;
        s *= shape[d];
      }
      w.tuple_of(stride);
      w.boolean(false);  // requires_grad
      global("collections", "OrderedDict");  // backward hooks: OrderedDict()
      w.empty_tuple();
      w.reduce();
      w.tuple();
      w.reduce();
    }
    w.setitems();
  }
  w.setitem();
  w.stop();
  return w.bytes();
}

TorchCheckpointWriter::TorchCheckpointWriter(const std::string& path, std::string archive, ZipWriter::Options zip)
    : path_(path), archive_(archive.empty() ? default_archive(path) : std::move(archive)), zip_(path, zip) {}

uint64_t TorchCheckpointWriter::begin(const std::string& key, DType dtype, const Shape& shape) {
  if (!keys_.emplace(key, items_.size()).second) throw Error("torch writer '" + path_ + "': duplicate key '" + key + "'");
  for (int64_t d : shape) {
    if (d < 0) throw Error("torch writer: tensor '" + key + "' has a negative dimension " + shape_str(shape));
  }
  const uint64_t bytes = static_cast<uint64_t>(shape_numel(shape)) * dtype_size(dtype);
  zip_.begin_entry(archive_ + "/data/" + std::to_string(items_.size()), bytes);
  items_.push_back({key, dtype, shape});
  return bytes;
}

void TorchCheckpointWriter::add(const std::string& key, const Tensor& t) {
  if (!t.raw() && t.numel() > 0) throw Error("torch writer: tensor '" + key + "' has no data");
  const uint64_t bytes = begin(key, t.dtype(), t.shape());
  if (bytes) zip_.write(t.raw(), static_cast<size_t>(bytes));
  zip_.end_entry();
}

void TorchCheckpointWriter::add(const std::string& key, DType dtype, const Shape& shape, const Fill& fill) {
  const uint64_t bytes = begin(key, dtype, shape);
  constexpr size_t kChunk = size_t{4} << 20;
  std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(bytes, kChunk)));
  for (uint64_t off = 0; off < bytes; off += kChunk) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, bytes - off));
    fill(buf.data(), off, n);
    zip_.write(buf.data(), n);
  }
  zip_.end_entry();
}

void TorchCheckpointWriter::finish() {
  std::vector<std::pair<std::string, std::pair<DType, Shape>>> entries;
  entries.reserve(items_.size());
  for (const Item& it : items_) entries.push_back({it.key, {it.dtype, it.shape}});
  const std::string pkl = torch_state_dict_pickle(entries);
  zip_.add_entry(archive_ + "/data.pkl", pkl.data(), pkl.size());
  zip_.add_entry(archive_ + "/byteorder", "little", 6);
  zip_.add_entry(archive_ + "/version", "3\n", 2);
  zip_.finish();
}

void write_torch_checkpoint(const std::string& path, const std::map<std::string, Tensor>& tensors_with_full_keys) {
  TorchCheckpointWriter w(path);
  for (const auto& [key, t] : tensors_with_full_keys) w.add(key, t);
  w.finish();
}

}  // namespace sam3

// Module tests for the torch checkpoint reader, the key layout rule and the writer (io/torch_checkpoint.h,
// io/weight_file.h, io/torch_writer.h): the tiny fixture checkpoint written by the official code (torch.save), round
// trips through our writer, views (offsets, non-contiguous strides), and tampered files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "fixture.h"
#include "io/mmap_file.h"
#include "io/pickle.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "io/torch_writer.h"
#include "io/weight_file.h"
#include "io/zip_reader.h"
#include "io/zip_writer.h"

using namespace sam3;

namespace {

const char* kTiny = "tiny/sam3_random.pt";

std::string tmp(const std::string& name) {
  return ::testing::TempDir() + "sam3_ckpt_" + std::to_string(getpid()) + "_" + name;
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

std::string error_of(const std::string& path) {
  try {
    load_weight_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool inside(const Tensor& t, const std::shared_ptr<const void>& keepalive) {
  const auto* f = static_cast<const MappedFile*>(keepalive.get());
  const uint8_t* p = static_cast<const uint8_t*>(t.raw());
  return p >= f->data() && p + t.nbytes() <= f->data() + f->size();
}

// A zip holding `pickle` as arch/data.pkl and the given storages as arch/data/<i>.
void write_archive(const std::string& path, const std::string& pickle, const std::vector<std::string>& storages) {
  ZipWriter w(path);
  w.add_entry("arch/data.pkl", pickle.data(), pickle.size());
  for (size_t i = 0; i < storages.size(); ++i)
    w.add_entry("arch/data/" + std::to_string(i), storages[i].data(), storages[i].size());
  w.add_entry("arch/version", "3\n", 2);
  w.finish();
}

std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// Pushes _rebuild_tensor_v2(storage(type, "<skey>", numel), offset, size, stride, False, OrderedDict()).
void put_tensor_v2(PickleWriter& w, const char* storage_type, const std::string& skey, int64_t numel, int64_t offset,
                   const Shape& size, const Shape& stride) {
  w.global("torch._utils", "_rebuild_tensor_v2");
  w.mark();
  w.mark();
  w.str("storage");
  w.global("torch", storage_type);
  w.str(skey);
  w.str("cpu");
  w.integer(numel);
  w.tuple();
  w.binpersid();
  w.integer(offset);
  w.tuple_of(size);
  w.tuple_of(stride);
  w.boolean(false);
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  w.tuple();
  w.reduce();
}

// Pickle of {"model": {key: _rebuild_tensor_v2(storage(type, "<skey>", numel), offset, size, stride)}} for one view.
std::string view_pickle(const std::string& key, const char* storage_type, const std::string& skey, int64_t numel,
                        int64_t offset, const Shape& size, const Shape& stride) {
  PickleWriter w;
  w.empty_dict();
  w.str("model");
  w.empty_dict();
  w.str(key);
  put_tensor_v2(w, storage_type, skey, numel, offset, size, stride);
  w.setitem();
  w.setitem();
  w.stop();
  return w.bytes();
}

}  // namespace

// The fixture checkpoint as torch.save wrote it: 350 keys (342 "detector.*" of which 22 are sam2_convs, 8 "tracker.*").
// Expected values read NOW with python3's zipfile + pickle + struct from the same file (see the commit that added
// this test); they are exact float32 values, compared bit for bit.
TEST(TorchCheckpoint, TinyFixture) {
  const auto t0 = std::chrono::steady_clock::now();
  WeightFile wf = load_weight_file(test::golden_path(kTiny));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("loaded %zu tensors (%zu skipped) in %.2f ms\n", wf.tensors.size(), wf.skipped.size(), ms);
  EXPECT_EQ(wf.format, "torch");
  EXPECT_TRUE(wf.metadata.empty());
  EXPECT_EQ(wf.tensors.size(), 320u);
  EXPECT_EQ(wf.skipped.size(), 30u);
  const auto n_skipped = [&](const char* prefix) {
    return std::count_if(wf.skipped.begin(), wf.skipped.end(),
                         [&](const std::string& k) { return k.rfind(prefix, 0) == 0; });
  };
  EXPECT_EQ(n_skipped("tracker."), 8);
  EXPECT_EQ(n_skipped("detector.backbone.vision_backbone.sam2_convs."), 22);
  EXPECT_NE(std::find(wf.skipped.begin(), wf.skipped.end(), "tracker.transformer.encoder.norm.bias"), wf.skipped.end());
  for (const auto& [k, t] : wf.tensors) {
    EXPECT_NE(k.rfind("detector.", 0), 0u) << k << ": prefix not stripped";
    EXPECT_EQ(k.find("sam2_convs"), std::string::npos) << k;
    EXPECT_EQ(k.rfind("tracker.", 0), std::string::npos) << k;
    // Zero copy: every tensor points into the mapped file and holds it alive.
    EXPECT_TRUE(inside(t, wf.keepalive)) << k << " was copied";
    EXPECT_EQ(t.keepalive().get(), wf.keepalive.get()) << k;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u) << k << ": torch.save aligns storages to 64 bytes";
  }
  EXPECT_LT(ms, 1000.0) << "loading must not touch the tensor data (milliseconds expected)";

  // Spot values.
  const Tensor& pos = wf.tensors.at("backbone.vision_backbone.trunk.pos_embed");
  EXPECT_EQ(pos.dtype(), DType::F32);
  EXPECT_EQ(pos.shape(), (Shape{1, 82, 64}));
  EXPECT_EQ(pos.f32()[0], -0.0558592826128006f);
  EXPECT_EQ(pos.f32()[3], -0.4408438801765442f);
  EXPECT_EQ(pos.f32()[82 * 64 / 2], 0.5512303709983826f);
  EXPECT_EQ(pos.f32()[82 * 64 - 1], -0.17283806204795837f);
  const Tensor& pe = wf.tensors.at("backbone.vision_backbone.trunk.patch_embed.proj.weight");
  EXPECT_EQ(pe.shape(), (Shape{64, 3, 14, 14}));
  EXPECT_EQ(pe.f32()[1000], -0.055566925555467606f);
  double sum = 0;
  for (int64_t i = 0; i < pe.numel(); ++i) sum += pe.f32()[i];
  EXPECT_NEAR(sum, 11.22134477757362, 1e-9);  // same summation order as python's sum() over float32 values in double

  // RoPE tables are complex64 (real, imag interleaved).
  int n_cis = 0;
  for (const auto& [k, t] : wf.tensors) {
    if (k.find("freqs_cis") == std::string::npos) continue;
    ++n_cis;
    EXPECT_EQ(t.dtype(), DType::C64) << k;
    EXPECT_EQ(t.dim(), 2) << k;
  }
  EXPECT_EQ(n_cis, 4);
  // Windowed blocks: (window 6)^2 = 36 positions; global blocks: 18^2 = 324; head_dim 16 / 2 = 8 complex each.
  EXPECT_EQ(wf.tensors.at("backbone.vision_backbone.trunk.blocks.0.attn.freqs_cis").shape(), (Shape{36, 8}));
  EXPECT_EQ(wf.tensors.at("backbone.vision_backbone.trunk.blocks.3.attn.freqs_cis").shape(), (Shape{324, 8}));
  const float* cis = wf.tensors.at("backbone.vision_backbone.trunk.blocks.0.attn.freqs_cis").data<float>();
  const struct {
    int r, c;
    float re, im;
  } want[] = {{0, 0, 1.0f, 0.0f},
              {1, 0, 0.5403022766113281f, 0.8414709568023682f},
              {35, 0, 0.28366219997406006f, -0.9589242935180664f},
              {20, 6, 0.9995500445365906f, 0.029995499178767204f}};
  for (const auto& w : want) {
    EXPECT_EQ(cis[2 * (w.r * 8 + w.c)], w.re) << w.r << "," << w.c;
    EXPECT_EQ(cis[2 * (w.r * 8 + w.c) + 1], w.im) << w.r << "," << w.c;
  }

  // The raw reader sees every key in state-dict order.
  TorchCheckpoint ck = read_torch_checkpoint(test::golden_path(kTiny));
  EXPECT_EQ(ck.archive, "sam3_random");
  ASSERT_EQ(ck.tensors.size(), 350u);
  EXPECT_EQ(ck.tensors.front().first, "detector.backbone.vision_backbone.trunk.pos_embed");
  EXPECT_EQ(ck.tensors.back().first, "tracker.transformer.encoder.norm.bias");
  EXPECT_EQ(ck.tensors[100].first, "detector.backbone.language_backbone.encoder.transformer.resblocks.1.ln_2.bias");
  EXPECT_TRUE(ck.non_tensors.empty());
  // PyTorch's writer always emits the ZIP64 end records (miniz MZ_ZIP_FLAG_WRITE_ZIP64): the fixture exercises them.
  EXPECT_TRUE(ZipReader::open(test::golden_path(kTiny)).zip64());
}

TEST(TorchCheckpoint, LayoutRule) {
  std::string k;
  EXPECT_TRUE(image_model_key("detector.transformer.decoder.norm.weight", &k));
  EXPECT_EQ(k, "transformer.decoder.norm.weight");
  EXPECT_FALSE(image_model_key("detector.backbone.vision_backbone.sam2_convs.0.conv.weight", &k));
  EXPECT_TRUE(image_model_key("detector.backbone.vision_backbone.convs.0.conv.weight", &k));
  EXPECT_FALSE(image_model_key("tracker.maskmem_tpos_enc", &k));
  EXPECT_FALSE(image_model_key("model.detector.x", &k)) << "only keys that START with detector.";
  EXPECT_FALSE(image_model_key("detectorx.y", &k));
}

// Our writer, read back by our reader: every dtype, bit-exact, zero-copy, ZIP64 forced or not.
TEST(TorchCheckpoint, WriterRoundTrip) {
  std::map<std::string, Tensor> in;
  const DType dts[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64, DType::I32,
                       DType::I16, DType::I8,  DType::U8,   DType::Bool, DType::C64};
  uint8_t v = 1;
  for (DType dt : dts) {
    Tensor t = Tensor::empty({3, 5}, dt);
    for (size_t i = 0; i < t.nbytes(); ++i) static_cast<uint8_t*>(t.raw())[i] = dt == DType::Bool ? (v++ & 1) : v++;
    in[std::string("detector.") + dtype_name(dt)] = t;
  }
  in["detector.scalar"] = Tensor::zeros({}, DType::F32);
  in["detector.scalar"].f32()[0] = 42.5f;
  in["detector.empty"] = Tensor::zeros({0, 7}, DType::F32);
  in["detector.backbone.vision_backbone.sam2_convs.0.w"] = Tensor::zeros({2}, DType::F32);
  in["tracker.w"] = Tensor::zeros({2}, DType::F32);
  for (bool z64 : {false, true}) {
    const std::string path = tmp(z64 ? "rt64.pt" : "rt.pt");
    if (z64) {
      ZipWriter::Options opt;
      opt.force_zip64 = true;
      TorchCheckpointWriter w(path, "rt64", opt);
      for (const auto& [k, t] : in) w.add(k, t);
      w.finish();
    } else {
      write_torch_checkpoint(path, in);
    }
    WeightFile wf = load_weight_file(path);
    EXPECT_EQ(wf.tensors.size(), in.size() - 2);
    EXPECT_EQ(wf.skipped, (std::vector<std::string>{"detector.backbone.vision_backbone.sam2_convs.0.w", "tracker.w"}));
    for (const auto& [k, t] : in) {
      std::string s;
      if (!image_model_key(k, &s)) continue;
      ASSERT_TRUE(wf.tensors.count(s)) << s;
      const Tensor& r = wf.tensors.at(s);
      EXPECT_EQ(r.dtype(), t.dtype()) << s;
      EXPECT_EQ(r.shape(), t.shape()) << s;
      EXPECT_EQ(std::memcmp(r.raw(), t.raw(), t.nbytes()), 0) << s;
      if (t.numel()) {
        EXPECT_TRUE(inside(r, wf.keepalive)) << s;
      }
    }
    // Default archive folder = file name without directory and extension, as torch.save names it.
    EXPECT_EQ(read_torch_checkpoint(path).archive, z64 ? "rt64" : "sam3_ckpt_" + std::to_string(getpid()) + "_rt");
    std::remove(path.c_str());
  }
}

// Streaming add() with a fill callback: data produced in chunks, never held whole.
TEST(TorchCheckpoint, WriterStreamingFill) {
  const std::string path = tmp("fill.pt");
  const int64_t n = (int64_t{9} << 20) + 3;  // > two 4 MiB chunks of bytes, odd size
  {
    TorchCheckpointWriter w(path, "archive");
    w.add("detector.big", DType::U8, {n}, [](uint8_t* dst, uint64_t off, size_t len) {
      for (size_t i = 0; i < len; ++i) dst[i] = static_cast<uint8_t>((off + i) * 7 % 251);
    });
    EXPECT_THROW(w.add("detector.big", DType::U8, {1}, [](uint8_t*, uint64_t, size_t) {}), Error);
    w.finish();
  }
  WeightFile wf = load_weight_file(path);
  const Tensor& t = wf.tensors.at("big");
  ASSERT_EQ(t.numel(), n);
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) ok = ok && t.data<uint8_t>()[i] == static_cast<uint8_t>(i * 7 % 251);
  EXPECT_TRUE(ok);
  std::remove(path.c_str());
}

// The protocol-2 pickle CPython 3.11 writes (driven as torch.save drives it, with stub torch modules) for
//   {'model': OrderedDict(
//       'detector.a.weight':  _rebuild_tensor_v2(storage('0', FloatStorage, 12), 0, (3, 4), (4, 1)),
//       'detector.a.bias':    ... (storage 0, offset 8, (4,), (1,)),
//       'detector.t':         ... (storage 0, offset 0, (4, 3), (1, 4))   transposed view,
//       'detector.freqs_cis': ... (storage('1', ComplexFloatStorage, 4), 0, (2, 2), (2, 1)),
//       'tracker.p':          _rebuild_parameter(... (storage 0, offset 1, (2,), (1,)), True, OrderedDict()),
//       'detector.big':       ... (storage 0, offset 0, (), ()),
//   ) with ._metadata = OrderedDict('' : {'version': 1}, 'a': {'version': 1})}   (also in tests/unit/test_pickle.cpp)
const char* kProto2Hex =
    "80027d710058050000006d6f64656c710163636f6c6c656374696f6e730a4f726465726564446963740a7102295271032858110000006465"
    "746563746f722e612e776569676874710463746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a710528285807"
    "00000073746f72616765710663746f7263680a466c6f617453746f726167650a71075801000000307108580300000063707571094b0c7471"
    "0a514b004b034b0486710b4b044b0186710c8968022952710d74710e52710f580f0000006465746563746f722e612e626961737110680528"
    "2868066807680868094b0c747111514b084b048571124b0185711389680229527114747115527116580a0000006465746563746f722e7471"
    "176805282868066807680868094b0c747118514b004b044b038671194b014b0486711a8968022952711b74711c52711d5812000000646574"
    "6563746f722e66726571735f636973711e68052828680663746f7263680a436f6d706c6578466c6f617453746f726167650a711f58010000"
    "0031712068094b04747121514b004b024b028671224b024b01867123896802295271247471255271265809000000747261636b65722e7071"
    "2763746f7263682e5f7574696c730a5f72656275696c645f706172616d657465720a71286805282868066807680868094b0c747129514b01"
    "4b0285712a68138968022952712b74712c52712d8868022952712e87712f527130580c0000006465746563746f722e626967713168052828"
    "68066807680868094b0c747132514b00292989680229527133747134527135757d713658090000005f6d6574616461746171376802295271"
    "3828580000000071397d713a580700000076657273696f6e713b4b0173580100000061713c7d713d683b4b0173757362732e"
    ;

std::string unhex(const char* h) {
  std::string out;
  for (size_t i = 0; h[i] && h[i + 1]; i += 2) out.push_back(static_cast<char>(std::stoi(std::string(h + i, 2), nullptr, 16)));
  return out;
}

// Views as CPython's pickler writes them for torch: shared storage with offsets, a transposed (non-contiguous) view
// that must be copied, complex64, a parameter (skipped: tracker.*), a 0-d tensor, and OrderedDict._metadata.
TEST(TorchCheckpoint, ViewsFromCPythonPickle) {
  const std::string s0 = floats({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const std::string s1 = floats({100, 101, 102, 103, 104, 105, 106, 107});
  const std::string path = tmp("views.pt");

  // 0. The CPython pickle itself, over storages made to fit it.
  write_archive(path, unhex(kProto2Hex), {s0, s1});
  {
    WeightFile wf = load_weight_file(path);
    EXPECT_EQ(wf.tensors.size(), 5u);
    EXPECT_EQ(wf.skipped, std::vector<std::string>{"tracker.p"});
    const Tensor& w = wf.tensors.at("a.weight");
    EXPECT_EQ(w.shape(), (Shape{3, 4}));
    EXPECT_EQ(w.f32()[11], 11.0f);
    EXPECT_TRUE(inside(w, wf.keepalive));
    const Tensor& b = wf.tensors.at("a.bias");
    EXPECT_EQ(std::vector<float>(b.f32(), b.f32() + 4), (std::vector<float>{8, 9, 10, 11}));
    EXPECT_TRUE(inside(b, wf.keepalive));
    const Tensor& t = wf.tensors.at("t");
    EXPECT_FALSE(inside(t, wf.keepalive)) << "a non-contiguous view must be copied";
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_EQ(t.f32()[i * 3 + j], static_cast<float>(i + 4 * j)) << i << "," << j;
    const Tensor& c = wf.tensors.at("freqs_cis");
    EXPECT_EQ(c.dtype(), DType::C64);
    EXPECT_EQ(c.shape(), (Shape{2, 2}));
    EXPECT_EQ(c.data<float>()[7], 107.0f);
    const Tensor& big = wf.tensors.at("big");
    EXPECT_EQ(big.dim(), 0);
    EXPECT_EQ(big.f32()[0], 0.0f);
  }

  // 1. Shared storage with an offset: bias = storage0[8:12].
  write_archive(path, view_pickle("detector.a.bias", "FloatStorage", "0", 12, 8, {4}, {1}), {s0});
  {
    WeightFile wf = load_weight_file(path);
    const Tensor& b = wf.tensors.at("a.bias");
    EXPECT_EQ(b.shape(), (Shape{4}));
    EXPECT_EQ(b.f32()[0], 8.0f);
    EXPECT_EQ(b.f32()[3], 11.0f);
    EXPECT_TRUE(inside(b, wf.keepalive));
  }
  // 2. Transposed view (4, 3) with stride (1, 4): copied into an owned contiguous tensor.
  write_archive(path, view_pickle("detector.t", "FloatStorage", "0", 12, 0, {4, 3}, {1, 4}), {s0});
  {
    WeightFile wf = load_weight_file(path);
    const Tensor& t = wf.tensors.at("t");
    EXPECT_EQ(t.shape(), (Shape{4, 3}));
    EXPECT_FALSE(inside(t, wf.keepalive)) << "a non-contiguous view must be copied";
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_EQ(t.f32()[i * 3 + j], static_cast<float>(i + 4 * j)) << i << "," << j;
  }
  // 3. Broadcast-style view (stride 0) and a size-1 dim with an odd stride (still contiguous).
  write_archive(path, view_pickle("detector.bc", "FloatStorage", "0", 12, 2, {3, 2}, {0, 1}), {s0});
  {
    WeightFile wf = load_weight_file(path);
    const Tensor& t = wf.tensors.at("bc");
    EXPECT_EQ(std::vector<float>(t.f32(), t.f32() + 6), (std::vector<float>{2, 3, 2, 3, 2, 3}));
  }
  write_archive(path, view_pickle("detector.one", "FloatStorage", "0", 12, 4, {1, 4}, {999, 1}), {s0});
  {
    WeightFile wf = load_weight_file(path);
    EXPECT_TRUE(inside(wf.tensors.at("one"), wf.keepalive));
    EXPECT_EQ(wf.tensors.at("one").f32()[0], 4.0f);
  }
  // 4. Complex64 view with an offset into the storage (offset in complex elements).
  write_archive(path, view_pickle("detector.freqs_cis", "ComplexFloatStorage", "0", 6, 2, {2, 2}, {2, 1}), {s0});
  {
    WeightFile wf = load_weight_file(path);
    const Tensor& c = wf.tensors.at("freqs_cis");
    EXPECT_EQ(c.dtype(), DType::C64);
    EXPECT_EQ(c.data<float>()[0], 4.0f);
    EXPECT_EQ(c.data<float>()[7], 11.0f);
  }
  // 5. Bare state dict (no "model" wrapper) with no "detector." keys: taken as already stripped.
  {
    PickleWriter w;
    w.empty_dict();
    w.str("backbone.w");
    put_tensor_v2(w, "FloatStorage", "0", 12, 0, {12}, {1});
    w.setitem();
    w.str("tracker.step");
    w.integer(5);  // not a tensor: skipped
    w.setitem();
    w.stop();
    write_archive(path, w.bytes(), {s0});
    WeightFile wf = load_weight_file(path);
    EXPECT_EQ(wf.tensors.size(), 1u);
    EXPECT_EQ(wf.tensors.at("backbone.w").f32()[11], 11.0f);
    EXPECT_EQ(wf.skipped, std::vector<std::string>{"tracker.step"});
  }
  std::remove(path.c_str());
}

TEST(TorchCheckpoint, RejectsTamperedFiles) {
  const std::string s0 = floats({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const std::string path = tmp("bad.pt");
  struct Case {
    std::string pickle;
    std::vector<std::string> storages;
    std::string expect;
  };
  std::string exploit = "\x80\x02}X\x05";
  exploit += std::string(3, '\0') + "modelcos\nsystem\nX\x04" + std::string(3, '\0') + "trueR.";
  const Case cases[] = {
      {exploit, {}, "refused global 'os.system'"},
      {view_pickle("detector.x", "FloatStorage", "0", 12, 10, {4}, {1}), {s0}, "exceeds its storage"},
      {view_pickle("detector.x", "FloatStorage", "0", 12, 0, {4, 4}, {4, 1}), {s0}, "exceeds its storage"},
      {view_pickle("detector.x", "FloatStorage", "0", 12, 0, {2, 2}, {int64_t{1} << 62, 1}), {s0}, "exceeds its storage"},
      {view_pickle("detector.x", "FloatStorage", "0", 12, 0, {4, 4}, {int64_t{1} << 62, 1}), {s0}, "overflow"},
      // Stride 0 and 2^62 elements: the whole view addresses one element, but its copy would be 2^64 bytes.
      {view_pickle("detector.x", "FloatStorage", "0", 12, 0, {int64_t{1} << 31, int64_t{1} << 31}, {0, 0}), {s0},
       "larger than its storage"},
      {view_pickle("detector.x", "FloatStorage", "0", 12, 0, {1 << 20, 1 << 20}, {0, 0}), {s0},
       "larger than its storage"},
      {view_pickle("detector.x", "FloatStorage", "0", 12, 0, {13}, {0}), {s0}, "larger than its storage"},
      {view_pickle("detector.x", "FloatStorage", "0", 13, 0, {4}, {1}), {s0}, "holds 48 bytes"},
      {view_pickle("detector.x", "DoubleStorage", "0", 12, 0, {4}, {1}), {s0}, "holds 48 bytes"},
      {view_pickle("detector.x", "FloatStorage", "7", 12, 0, {4}, {1}), {s0}, "storage entry 'arch/data/7' is missing"},
      {"\x80\x02K\x01.", {}, "top level is a int"},
  };
  for (const Case& c : cases) {
    write_archive(path, c.pickle, c.storages);
    const std::string err = error_of(path);
    EXPECT_NE(err.find(c.expect), std::string::npos) << "'" << err << "'";
    EXPECT_NE(err.find(path), std::string::npos) << "names the file: " << err;
  }
  // Not a torch checkpoint: a zip without data.pkl; two pickles; big-endian byte order.
  {
    ZipWriter w(path);
    w.add_entry("arch/other", "x", 1);
    w.finish();
  }
  EXPECT_NE(error_of(path).find("not a torch checkpoint"), std::string::npos);
  {
    ZipWriter w(path);
    w.add_entry("a/data.pkl", "x", 1);
    w.add_entry("b/data.pkl", "x", 1);
    w.finish();
  }
  EXPECT_NE(error_of(path).find("two pickles"), std::string::npos);
  {
    const std::string p = view_pickle("detector.x", "FloatStorage", "0", 12, 0, {4}, {1});
    ZipWriter w(path);
    w.add_entry("arch/data.pkl", p.data(), p.size());
    w.add_entry("arch/data/0", s0.data(), s0.size());
    w.add_entry("arch/byteorder", "big", 3);
    w.finish();
  }
  EXPECT_NE(error_of(path).find("byte order 'big'"), std::string::npos);

  // Corruptions of a real checkpoint written by our writer.
  std::map<std::string, Tensor> m;
  m["detector.a"] = Tensor::zeros({3, 4});
  m["detector.b"] = Tensor::zeros({5}, DType::C64);
  write_torch_checkpoint(tmp("good.pt"), m);
  const std::string good = slurp(tmp("good.pt"));
  ASSERT_EQ(error_of(tmp("good.pt")), "");
  // Truncated anywhere (every 8th byte, and each of the last 100).
  for (size_t n = 0; n < good.size(); n += (n + 100 < good.size() ? 8 : 1)) {
    spit(path, good.substr(0, n));
    EXPECT_NE(error_of(path), "") << "prefix of " << n << " bytes loaded";
  }
  // Corrupted central directory (offset field of the EOCD, then a byte of the first central entry's signature).
  std::string bad = good;
  bad[bad.size() - 22 + 16] ^= 0x40;
  spit(path, bad);
  EXPECT_NE(error_of(path).find("malformed zip archive"), std::string::npos);
  bad = good;
  size_t cd = 0;
  for (int i = 0; i < 4; ++i) cd |= size_t{static_cast<uint8_t>(good[good.size() - 22 + 16 + static_cast<size_t>(i)])} << (8 * i);
  bad[cd] = 'X';
  spit(path, bad);
  EXPECT_NE(error_of(path).find("bad signature"), std::string::npos);
  // A flipped bit in the pickle is caught by its CRC.
  bad = good;
  const size_t pkl_at = good.find("detector.a");
  ASSERT_NE(pkl_at, std::string::npos);
  bad[pkl_at] ^= 1;
  spit(path, bad);
  EXPECT_NE(error_of(path).find("CRC32 mismatch in entry 'sam3_ckpt_" + std::to_string(getpid()) + "_good/data.pkl'"), std::string::npos) << error_of(path);
  // Neither zip nor safetensors.
  spit(path, "hello world, this is not a checkpoint");
  EXPECT_NE(error_of(path), "");
  EXPECT_NE(error_of(tmp("does_not_exist.pt")).find("cannot open"), std::string::npos);
  std::remove(tmp("good.pt").c_str());
  std::remove(path.c_str());
}

TEST(TorchCheckpoint, DispatchesSafetensors) {
  const std::string path = tmp("w.safetensors");
  std::map<std::string, Tensor> m;
  m["backbone.w"] = Tensor::zeros({2, 2});
  m["backbone.w"].f32()[3] = 7.0f;
  write_safetensors(path, m, {{"sam3.dtype", "f32"}});
  WeightFile wf = load_weight_file(path);
  EXPECT_EQ(wf.format, "safetensors");
  EXPECT_EQ(wf.metadata.at("sam3.dtype"), "f32");
  EXPECT_EQ(wf.tensors.at("backbone.w").f32()[3], 7.0f);
  EXPECT_TRUE(wf.skipped.empty());
  EXPECT_TRUE(inside(wf.tensors.at("backbone.w"), wf.keepalive));
  std::remove(path.c_str());
}

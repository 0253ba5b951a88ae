// Unit tests for the restricted unpickler (io/pickle.h): state-dict pickles as CPython writes them (protocols 2, 4,
// 5), refused globals, malformed input (truncation at every byte, underflow, bad memo, absurd lengths, deep nesting),
// and random mutations that must end in sam3::Error or success, never a crash or a hang.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>

#include "core/error.h"
#include "io/pickle.h"
#include "io/torch_writer.h"

using namespace sam3;
using Kind = PyObject::Kind;
using namespace std::string_literals;  // "...\0..."s keeps embedded NULs

namespace {

// Pickles made NOW by CPython 3.11's pickle.Pickler (with stub torch modules, the way torch.save drives it) of
//   {'model': OrderedDict(
//       'detector.a.weight':  _rebuild_tensor_v2(storage('0', FloatStorage, 12), 0, (3, 4), (4, 1)),
//       'detector.a.bias':    ... (storage 0, offset 8, (4,), (1,)),
//       'detector.t':         ... (storage 0, offset 0, (4, 3), (1, 4))   transposed view,
//       'detector.freqs_cis': ... (storage('1', ComplexFloatStorage, 4), 0, (2, 2), (2, 1)),
//       'tracker.p':          _rebuild_parameter(... (storage 0, offset 1, (2,), (1,)), True, OrderedDict()),
//       'detector.big':       ... (storage 0, offset 0, (), ()),
//   ) with ._metadata = OrderedDict('' : {'version': 1}, 'a': {'version': 1})}
// Protocol 2 (torch.save's default) uses GLOBAL/BINPUT; 4 and 5 use FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL.
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
const char* kProto4Hex =
    "8004952e020000000000007d948c056d6f64656c948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c"
    "116465746563746f722e612e776569676874948c0c746f7263682e5f7574696c73948c125f72656275696c645f74656e736f725f76329493"
    "9428288c0773746f72616765948c05746f726368948c0c466c6f617453746f726167659493948c0130948c03637075944b0c7494514b004b"
    "034b0486944b044b018694896804295294749452948c0f6465746563746f722e612e626961739468092828680a680d680e680f4b0c749451"
    "4b084b0485944b018594896804295294749452948c0a6465746563746f722e749468092828680a680d680e680f4b0c7494514b004b044b03"
    "86944b014b048694896804295294749452948c126465746563746f722e66726571735f6369739468092828680a680b8c13436f6d706c6578"
    "466c6f617453746f726167659493948c013194680f4b047494514b004b024b0286944b024b018694896804295294749452948c0974726163"
    "6b65722e709468078c125f72656275696c645f706172616d6574657294939468092828680a680d680e680f4b0c7494514b014b0285946819"
    "89680429529474945294886804295294879452948c0c6465746563746f722e6269679468092828680a680d680e680f4b0c7494514b002929"
    "89680429529474945294757d948c095f6d65746164617461946804295294288c00947d948c0776657273696f6e944b01738c0161947d9468"
    "434b0173757362732e"
    ;
const char* kProto5Hex =
    "8005952e020000000000007d948c056d6f64656c948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c"
    "116465746563746f722e612e776569676874948c0c746f7263682e5f7574696c73948c125f72656275696c645f74656e736f725f76329493"
    "9428288c0773746f72616765948c05746f726368948c0c466c6f617453746f726167659493948c0130948c03637075944b0c7494514b004b"
    "034b0486944b044b018694896804295294749452948c0f6465746563746f722e612e626961739468092828680a680d680e680f4b0c749451"
    "4b084b0485944b018594896804295294749452948c0a6465746563746f722e749468092828680a680d680e680f4b0c7494514b004b044b03"
    "86944b014b048694896804295294749452948c126465746563746f722e66726571735f6369739468092828680a680b8c13436f6d706c6578"
    "466c6f617453746f726167659493948c013194680f4b047494514b004b024b0286944b024b018694896804295294749452948c0974726163"
    "6b65722e709468078c125f72656275696c645f706172616d6574657294939468092828680a680d680e680f4b0c7494514b014b0285946819"
    "89680429529474945294886804295294879452948c0c6465746563746f722e6269679468092828680a680d680e680f4b0c7494514b002929"
    "89680429529474945294757d948c095f6d65746164617461946804295294288c00947d948c0776657273696f6e944b01738c0161947d9468"
    "434b0173757362732e"
    ;

std::string unhex(const char* h) {
  std::string out;
  for (size_t i = 0; h[i] && h[i + 1]; i += 2) out.push_back(static_cast<char>(std::stoi(std::string(h + i, 2), nullptr, 16)));
  return out;
}

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Unpickles `p`; the Unpickler is kept so the objects stay alive.
struct Parsed {
  std::string data;
  Unpickler up;
  PyObject* root;
  explicit Parsed(std::string p) : data(std::move(p)), up(bytes(data), data.size(), "test"), root(up.load()) {}
};

// The error message of unpickling `p`, or "" if it succeeded.
std::string error_of(const std::string& p, UnpicklerLimits limits = {}) {
  try {
    Unpickler up(bytes(p), p.size(), "test", limits);
    up.load();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const PyObject* lookup(const PyObject* d, const std::string& key) {
  for (const auto& kv : d->dict) {
    if (kv.first->kind == Kind::Str && kv.first->str == key) return kv.second;
  }
  return nullptr;
}

void check_cpython_state_dict(const PyObject* root) {
  ASSERT_EQ(root->kind, Kind::Dict);
  const PyObject* sd = lookup(root, "model");
  ASSERT_NE(sd, nullptr);
  ASSERT_EQ(sd->kind, Kind::Dict);
  EXPECT_TRUE(sd->ordered);
  ASSERT_EQ(sd->dict.size(), 6u);
  const char* keys[] = {"detector.a.weight", "detector.a.bias", "detector.t", "detector.freqs_cis", "tracker.p",
                        "detector.big"};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(sd->dict[i].first->str, keys[i]);
  const PyObject* w = lookup(sd, "detector.a.weight");
  ASSERT_EQ(w->kind, Kind::Tensor);
  EXPECT_EQ(w->size, (Shape{3, 4}));
  EXPECT_EQ(w->stride, (Shape{4, 1}));
  EXPECT_EQ(w->offset, 0);
  ASSERT_EQ(w->storage->kind, Kind::Storage);
  EXPECT_EQ(w->storage->dtype, DType::F32);
  EXPECT_EQ(w->storage->str, "0");
  EXPECT_EQ(w->storage->location, "cpu");
  EXPECT_EQ(w->storage->numel, 12);
  const PyObject* b = lookup(sd, "detector.a.bias");
  EXPECT_EQ(b->offset, 8);
  EXPECT_EQ(b->storage->str, "0") << "same storage key as the weight (CPython re-emits BINPERSID; keys identify storages)";
  const PyObject* t = lookup(sd, "detector.t");
  EXPECT_EQ(t->size, (Shape{4, 3}));
  EXPECT_EQ(t->stride, (Shape{1, 4}));
  const PyObject* c = lookup(sd, "detector.freqs_cis");
  EXPECT_EQ(c->storage->dtype, DType::C64);
  EXPECT_EQ(c->storage->numel, 4);
  const PyObject* p = lookup(sd, "tracker.p");
  ASSERT_EQ(p->kind, Kind::Tensor) << "_rebuild_parameter yields its data tensor";
  EXPECT_EQ(p->offset, 1);
  const PyObject* s = lookup(sd, "detector.big");
  EXPECT_TRUE(s->size.empty());
  // OrderedDict BUILD state: {'_metadata': OrderedDict(...)}
  ASSERT_EQ(sd->attrs.size(), 1u);
  EXPECT_EQ(sd->attrs[0].first->str, "_metadata");
  EXPECT_EQ(sd->attrs[0].second->dict.size(), 2u);
}

}  // namespace

TEST(Pickle, CPythonProtocol2) { check_cpython_state_dict(Parsed(unhex(kProto2Hex)).root); }
TEST(Pickle, CPythonProtocol4) { check_cpython_state_dict(Parsed(unhex(kProto4Hex)).root); }
TEST(Pickle, CPythonProtocol5) { check_cpython_state_dict(Parsed(unhex(kProto5Hex)).root); }

TEST(Pickle, WriterRoundTrip) {
  const std::string p = torch_state_dict_pickle({{"a", {DType::F32, {2, 3}}},
                                                 {"b", {DType::C64, {5}}},
                                                 {"c", {DType::BF16, {70000, 1, 3, 4, 5}}},
                                                 {"d", {DType::I64, {}}},
                                                 {"e", {DType::U8, {int64_t{3} << 31}}}});
  Parsed r(p);
  const PyObject* sd = lookup(r.root, "model");
  ASSERT_NE(sd, nullptr);
  ASSERT_EQ(sd->dict.size(), 5u);
  const PyObject* c = lookup(sd, "c");
  EXPECT_EQ(c->storage->dtype, DType::BF16);
  EXPECT_EQ(c->storage->str, "2");
  EXPECT_EQ(c->size, (Shape{70000, 1, 3, 4, 5}));
  EXPECT_EQ(c->stride, (Shape{60, 60, 20, 5, 1}));
  EXPECT_EQ(lookup(sd, "b")->storage->dtype, DType::C64);
  EXPECT_TRUE(lookup(sd, "d")->size.empty());
  EXPECT_EQ(lookup(sd, "e")->storage->numel, int64_t{3} << 31) << "LONG1 for counts past 2^31";
}

TEST(Pickle, Scalars) {
  PickleWriter w;
  w.mark();
  for (int64_t v : {int64_t{0}, int64_t{255}, int64_t{256}, int64_t{65535}, int64_t{65536}, int64_t{-1},
                    int64_t{INT32_MIN}, int64_t{INT32_MAX} + 1, int64_t{-129} * (int64_t{1} << 32), INT64_MAX, INT64_MIN})
    w.integer(v);
  w.boolean(true);
  w.none();
  w.raw(std::string("G\x3f\xf8\0\0\0\0\0\0", 9));  // BINFLOAT 1.5
  w.raw(std::string("\x8a\x00", 2));                // LONG1 of zero bytes = 0
  w.tuple();
  w.stop();
  Parsed r(w.bytes());
  const auto& it = r.root->items;
  ASSERT_EQ(it.size(), 15u);
  const int64_t want[] = {0, 255, 256, 65535, 65536, -1, INT32_MIN, int64_t{INT32_MAX} + 1, int64_t{-129} * (int64_t{1} << 32),
                          INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < 11; ++i) EXPECT_EQ(it[i]->integer, want[i]) << i;
  EXPECT_TRUE(it[11]->boolean);
  EXPECT_EQ(it[12]->kind, Kind::None);
  EXPECT_EQ(it[13]->real, 1.5);
  EXPECT_EQ(it[14]->integer, 0);
}

TEST(Pickle, RefusesCodeExecutionGlobals) {
  const std::string marker = ::testing::TempDir() + "sam3_pickle_pwned_" + std::to_string(getpid());
  std::remove(marker.c_str());
  const std::string cmd = "touch " + marker;
  struct Case {
    std::string pickle, name;
  };
  std::string len4(4, '\0');
  for (int i = 0; i < 4; ++i) len4[static_cast<size_t>(i)] = static_cast<char>(cmd.size() >> (8 * i));
  const Case cases[] = {
      {"\x80\x02" "cos\nsystem\n(X" + len4 + cmd + "tR.", "os.system"},
      {"cposix\nsystem\n(X" + len4 + cmd + "tR.", "posix.system"},
      {"\x80\x02" "cbuiltins\neval\nX\x04\0\0\0" "1+1\x85R."s, "builtins.eval"},
      {"\x80\x02" "c__builtin__\nexec\n.", "__builtin__.exec"},
      {"\x80\x02" "ctorch\nload\n.", "torch.load"},
      {"\x80\x02" "ctorch._utils\n_rebuild_qtensor\n.", "torch._utils._rebuild_qtensor"},
      {"\x80\x02" "ccollections\ndefaultdict\n.", "collections.defaultdict"},
      {"\x80\x04\x8c\x02os\x8c\x06system\x93.", "os.system"},  // STACK_GLOBAL
      {"\x80\x02}(X\x01\0\0\0a" "csubprocess\ncheck_call\nu."s, "subprocess.check_call"},  // after valid objects
  };
  for (const Case& c : cases) {
    const std::string err = error_of(c.pickle);
    EXPECT_NE(err.find("refused global '" + c.name + "'"), std::string::npos) << err;
  }
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "nothing may execute";
  // Allow-listed names that are not constructors are not callable either.
  EXPECT_NE(error_of("\x80\x02" "ctorch\nFloatStorage\n)R.").find("not callable"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02" "ctorch\nfloat32\n)R.").find("not callable"), std::string::npos);
}

TEST(Pickle, MalformedInputs) {
  struct Case {
    std::string pickle, expect;
  };
  const Case cases[] = {
      {"", "without STOP"},
      {"\x80\x02.", "underflow"},
      {"\x80\x02t.", "no MARK"},
      {"\x80\x02K\x01\x86.", "underflow"},
      {"\x80\x02h\x05.", "memo index 5"},
      {"\x80\x02j\xff\xff\xff\xff.", "memo index 4294967295"},
      {"\x80\x02q\x00."s, "underflow"},
      {"\x80\x02X\xff\xff\xff\xff", "runs past the end"},
      {std::string("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f", 11), "runs past the end"},
      {std::string("\x80\x04\x95\0\0\0\0\0\0\0\x10}.", 13), "frame"},
      {"\x80\x02\x8a\x09" "123456789.", "64 bits"},
      {"\x80\x09.", "protocol 9"},
      {"\x80\x02I1\n.", "unsupported pickle opcode"},
      {"\x80\x02K\x01K\x02K\x03s.", "SETITEM"},
      {"\x80\x02]K\x01K\x02u.", "MARK"},
      {"\x80\x02}K\x01" "a.", "APPEND"},
      {"\x80\x02K\x01)R.", "non-callable"},
      {"\x80\x02" "ccollections\nOrderedDict\nK\x01R.", "not a tuple"},
      {"\x80\x02K\x01}b.", "BUILD"},
      {"\x80\x02(X\x03\0\0\0fooK\x01tQ."s, "persistent id"},
      {"\x80\x02(X\x07\0\0\0storageccollections\nOrderedDict\nX\x01\0\0\0" "0X\x03\0\0\0cpuK\x01tQ."s, "storage type"},
      {"\x80\x02(X\x07\0\0\0storagectorch\nFloatStorage\nK\x00X\x03\0\0\0cpuK\x01tQ."s, "key"},
      {"\x80\x02(X\x07\0\0\0storagectorch\nFloatStorage\nX\x01\0\0\0" "0X\x03\0\0\0cpuJ\xff\xff\xff\xfftQ."s, "count"},
      {"\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n(K\x01K\x02tR.", "6 or 7 arguments"},
      {"\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n(K\x00K\x00))\x89}tR."s, "not a storage"},
      {"\x80\x02" "ctorch._utils\n_rebuild_parameter\n(K\x00\x89}tR."s, "not a tensor"},
      {"\x80\x02" "ctorch\nFloatStorage", "unterminated line"},
  };
  for (const Case& c : cases) {
    const std::string err = error_of(c.pickle);
    EXPECT_NE(err.find(c.expect), std::string::npos) << "pickle " << ::testing::PrintToString(c.pickle) << " gave: '" << err << "'";
    EXPECT_NE(err.find("pickle test: at byte"), std::string::npos) << err;
  }
}

TEST(Pickle, NestingAndSizeLimits) {
  // MARK nesting is capped.
  EXPECT_NE(error_of("\x80\x02" + std::string(5000, '(') + "."
                ).find("nesting too deep"), std::string::npos);
  // Deep nesting built without MARKs (TUPLE1 chains) is fine: nothing recurses, and repr() is depth-limited.
  std::string deep = "\x80\x02N" + std::string(200000, '\x85') + ".";
  Parsed r(deep);
  EXPECT_EQ(r.root->kind, Kind::Tuple);
  EXPECT_LT(r.root->repr().size(), 100u);
  // Object and stack limits.
  UnpicklerLimits small;
  small.max_objects = 100;
  EXPECT_NE(error_of("\x80\x02" + std::string(200, 'N') + ".", small).find("too many objects"), std::string::npos);
  small.max_objects = 1000;
  small.max_stack = 50;
  EXPECT_NE(error_of("\x80\x02" + std::string(200, 'N') + ".", small).find("stack too deep"), std::string::npos);
}

// A short opcode sequence can copy a memoised container again and again (BINGET + BUILD adds all of a dict's items
// to a dict's attributes; BINGET + TUPLE1 + REDUCE of OrderedDict copies a list): each copy counts its items against
// max_items, so a small pickle cannot make quadratic work or memory. Each pickle below is under 25 KB and asks for
// 10^7 item copies (160 MB; add zeros to `copies` for more).
TEST(Pickle, ContainerCopiesAreCounted) {
  const int n = 10000, copies = 1000;
  std::string pairs;
  for (int i = 0; i < n; ++i) pairs += "NN";
  const std::string build = "\x80\x02}q\x00("s + pairs + "u";  // dict of n pairs, memo 0
  std::string p = build;
  for (int i = 0; i < copies; ++i) p += "h\x00"s + "b";  // BINGET 0, BUILD: dict.attrs += dict's n pairs
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(error_of(p + ".").find("too many container items"), std::string::npos);
  std::string pair_list = "\x80\x02" "ccollections\nOrderedDict\nq\x01(";
  for (int i = 0; i < n; ++i) pair_list += "NN\x86";  // (None, None)
  std::string l = pair_list + "lq\x02";  // the list of n pairs, memo 2
  for (int i = 0; i < copies; ++i) l += "h\x01h\x02\x85R0";  // OrderedDict((list,)) copies n items, POP
  EXPECT_NE(error_of(l + "N.").find("too many container items"), std::string::npos);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
  // The limit is a setting: a smaller one stops a plain long list too.
  UnpicklerLimits small;
  small.max_items = 100;
  EXPECT_NE(error_of("\x80\x02(" + std::string(200, 'N') + "l.", small).find("too many container items"),
            std::string::npos);
  EXPECT_TRUE(error_of("\x80\x02(" + std::string(100, 'N') + "l.", small).empty());
}

TEST(Pickle, TruncationAtEveryByte) {
  for (const char* hex : {kProto2Hex, kProto4Hex}) {
    const std::string p = unhex(hex);
    for (size_t n = 0; n < p.size(); ++n) {
      const std::string cut = p.substr(0, n);
      const std::string err = error_of(cut);
      EXPECT_FALSE(err.empty()) << "prefix of " << n << " bytes parsed";
    }
  }
}

// Random mutations of valid pickles: each run must end in success or sam3::Error (any other exception, a crash or a
// hang fails the test). Deterministic seed; ~20k variants.
TEST(Pickle, RandomMutations) {
  std::mt19937 rng(20240601);
  const std::string seeds[] = {unhex(kProto2Hex), unhex(kProto4Hex),
                               torch_state_dict_pickle({{"x", {DType::F16, {3, 300}}}, {"y", {DType::C64, {2}}}})};
  int ok = 0, errors = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int iter = 0; iter < 20000; ++iter) {
    std::string p = seeds[static_cast<size_t>(iter) % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % p.size();
      switch (rng() % 5) {
        case 0: p[at] = static_cast<char>(rng()); break;                       // random byte
        case 1: p[at] = static_cast<char>(p[at] ^ (1 << (rng() % 8))); break;  // bit flip
        case 2: p.erase(at, 1 + rng() % 8); break;                              // deletion
        case 3: p.insert(at, 1, static_cast<char>(rng())); break;               // insertion
        case 4: p.insert(at, p.substr(rng() % p.size(), 1 + rng() % 16)); break;  // duplicated chunk
      }
      if (p.empty()) p = "\x80";
    }
    try {
      Unpickler up(bytes(p), p.size(), "fuzz");
      up.load();
      ++ok;
    } catch (const Error&) {
      ++errors;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("mutations: %d parsed, %d rejected, %.2f s\n", ok, errors, s);
  EXPECT_GT(errors, 10000);
}

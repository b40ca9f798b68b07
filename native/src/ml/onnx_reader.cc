#include "ml/onnx_reader.h"

#include <cstring>

#include "common/error.h"

namespace de::ml {
namespace {

// Field numbers from onnx.proto3 (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto).
constexpr uint32_t kModelGraph = 7;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5, kGraphInput = 11, kGraphOutput = 12;
constexpr uint32_t kNodeInput = 1, kNodeOutput = 2, kNodeOpType = 4, kNodeAttribute = 5, kNodeDomain = 7;
constexpr uint32_t kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrS = 4, kAttrT = 5, kAttrFloats = 7, kAttrInts = 8;
constexpr uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorFloatData = 4, kTensorInt64Data = 7, kTensorName = 8,
                   kTensorRawData = 9, kTensorExternalData = 13, kTensorDataLocation = 14;
constexpr uint32_t kValueInfoName = 1;
constexpr int32_t kFloat = 1, kInt64 = 7;

[[noreturn]] void malformed() { throw Error(code::kModelInvalid, "ONNX model: malformed protobuf"); }

// One length-delimited protobuf message, read field by field.
class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}

  bool next() {
    if (p_ == end_) return false;
    const uint64_t key = varint();
    field_ = static_cast<uint32_t>(key >> 3);
    wire_ = static_cast<int>(key & 7);
    return true;
  }
  uint32_t field() const { return field_; }
  int wire() const { return wire_; }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) malformed();
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    malformed();
  }
  // The bytes of a length-delimited field.
  std::pair<const uint8_t*, size_t> bytes() {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) malformed();
    const uint8_t* at = p_;
    p_ += n;
    return {at, static_cast<size_t>(n)};
  }
  std::string string() {
    auto [at, n] = bytes();
    return {reinterpret_cast<const char*>(at), n};
  }
  float fixed32Float() {
    if (end_ - p_ < 4) malformed();
    float f;
    std::memcpy(&f, p_, 4);
    p_ += 4;
    return f;
  }
  void skip() {
    switch (wire_) {
      case 0: varint(); break;
      case 1:
        if (end_ - p_ < 8) malformed();
        p_ += 8;
        break;
      case 2: bytes(); break;
      case 5:
        if (end_ - p_ < 4) malformed();
        p_ += 4;
        break;
      default: malformed();
    }
  }
  // A repeated int64 field, packed or not.
  void int64s(std::vector<int64_t>& out) {
    if (wire_ == 2) {
      auto [at, n] = bytes();
      Reader packed(at, n);
      while (!packed.atEnd()) out.push_back(static_cast<int64_t>(packed.varint()));
    } else {
      out.push_back(static_cast<int64_t>(varint()));
    }
  }
  // A repeated float field, packed or not.
  void floats(std::vector<float>& out) {
    if (wire_ == 2) {
      auto [at, n] = bytes();
      if (n % 4 != 0) malformed();
      const size_t first = out.size();
      out.resize(first + n / 4);
      std::memcpy(out.data() + first, at, n);
    } else {
      out.push_back(fixed32Float());
    }
  }
  bool atEnd() const { return p_ == end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  uint32_t field_ = 0;
  int wire_ = 0;
};

// Little-endian hosts only (x86-64, arm64): raw_data is little-endian.
OnnxInitializer readTensor(const uint8_t* p, size_t n, std::string* name) {
  OnnxInitializer t;
  std::pair<const uint8_t*, size_t> raw{nullptr, 0};
  std::vector<int64_t> int64Data;
  Reader r(p, n);
  while (r.next()) {
    switch (r.field()) {
      case kTensorDims: r.int64s(t.dims); break;
      case kTensorDataType: t.dataType = static_cast<int32_t>(r.varint()); break;
      case kTensorFloatData: r.floats(t.data); break;
      case kTensorInt64Data: r.int64s(int64Data); break;
      case kTensorName:
        if (name) *name = r.string();
        else r.skip();
        break;
      case kTensorRawData: raw = r.bytes(); break;
      case kTensorExternalData:
        t.external = true;
        r.skip();
        break;
      case kTensorDataLocation: {
        const bool externalLocation = r.varint() == 1;  // DataLocation.EXTERNAL
        t.external = t.external || externalLocation;
        break;
      }
      default: r.skip();
    }
  }
  if (t.dataType == kFloat && raw.first != nullptr) {
    if (raw.second % 4 != 0) malformed();
    t.data.resize(raw.second / 4);
    std::memcpy(t.data.data(), raw.first, raw.second);
  } else if (t.dataType == kInt64) {
    // Kept as floats only when exact (small shape constants); the built-in networks read no others.
    if (raw.first != nullptr) {
      if (raw.second % 8 != 0) malformed();
      int64Data.resize(raw.second / 8);
      std::memcpy(int64Data.data(), raw.first, raw.second);
    }
    for (int64_t v : int64Data) t.data.push_back(static_cast<float>(v));
  }
  return t;
}

OnnxNode readNode(const uint8_t* p, size_t n) {
  OnnxNode node;
  Reader r(p, n);
  while (r.next()) {
    switch (r.field()) {
      case kNodeInput: node.inputs.push_back(r.string()); break;
      case kNodeOutput: node.outputs.push_back(r.string()); break;
      case kNodeOpType: node.opType = r.string(); break;
      case kNodeDomain: node.domain = r.string(); break;
      case kNodeAttribute: {
        auto [at, len] = r.bytes();
        Reader a(at, len);
        std::string name;
        OnnxAttribute attr;
        while (a.next()) {
          switch (a.field()) {
            case kAttrName: name = a.string(); break;
            case kAttrF: attr.floats.push_back(a.fixed32Float()); break;
            case kAttrI: attr.ints.push_back(static_cast<int64_t>(a.varint())); break;
            case kAttrS: attr.s = a.string(); break;
            case kAttrT: {
              auto [tp, tn] = a.bytes();
              OnnxInitializer t = readTensor(tp, tn, nullptr);
              attr.hasTensor = true;
              attr.floats = std::move(t.data);
              break;
            }
            case kAttrFloats: a.floats(attr.floats); break;
            case kAttrInts: a.int64s(attr.ints); break;
            default: a.skip();
          }
        }
        node.attributes[name] = std::move(attr);
        break;
      }
      default: r.skip();
    }
  }
  return node;
}

std::string valueInfoName(const uint8_t* p, size_t n) {
  Reader r(p, n);
  while (r.next()) {
    if (r.field() == kValueInfoName) return r.string();
    r.skip();
  }
  return {};
}

}  // namespace

OnnxGraph readOnnxGraph(const uint8_t* data, size_t size) {
  OnnxGraph g;
  Reader model(data, size);
  bool sawGraph = false;
  while (model.next()) {
    if (model.field() != kModelGraph || model.wire() != 2) {
      model.skip();
      continue;
    }
    sawGraph = true;
    auto [gp, gn] = model.bytes();
    Reader graph(gp, gn);
    while (graph.next()) {
      if (graph.wire() != 2) {
        graph.skip();
        continue;
      }
      switch (graph.field()) {
        case kGraphNode: {
          auto [np, nn] = graph.bytes();
          g.nodes.push_back(readNode(np, nn));
          break;
        }
        case kGraphInitializer: {
          auto [tp, tn] = graph.bytes();
          std::string name;
          OnnxInitializer t = readTensor(tp, tn, &name);
          g.initializers[name] = std::move(t);
          break;
        }
        case kGraphInput: {
          auto [vp, vn] = graph.bytes();
          g.inputs.push_back(valueInfoName(vp, vn));
          break;
        }
        case kGraphOutput: {
          auto [vp, vn] = graph.bytes();
          g.outputs.push_back(valueInfoName(vp, vn));
          break;
        }
        default: graph.skip();
      }
    }
  }
  if (!sawGraph) throw Error(code::kModelInvalid, "ONNX model: no graph");
  // Older exporters list initializers among the inputs too.
  std::vector<std::string> inputs;
  for (auto& name : g.inputs) {
    if (g.initializers.count(name) == 0) inputs.push_back(std::move(name));
  }
  g.inputs = std::move(inputs);
  return g;
}

}  // namespace de::ml

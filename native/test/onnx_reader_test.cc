// The ONNX reader behind the built-in BeatNet CRNN: what it reads from a model, and that cut or
// corrupted bytes end in a coded error (DE_MODEL_INVALID), never in a crash or an overread (the
// sanitizer build runs these too).
#include "ml/onnx_reader.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "beat/beatnet_crnn.h"
#include "common/error.h"
#include "test.h"

namespace {

using Bytes = std::vector<uint8_t>;

void varint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}
void key(Bytes& out, uint32_t field, int wire) { varint(out, (static_cast<uint64_t>(field) << 3) | wire); }
void lengthDelimited(Bytes& out, uint32_t field, const Bytes& body) {
  key(out, field, 2);
  varint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}
void text(Bytes& out, uint32_t field, const std::string& s) { lengthDelimited(out, field, Bytes(s.begin(), s.end())); }
void intField(Bytes& out, uint32_t field, uint64_t v) {
  key(out, field, 0);
  varint(out, v);
}

// ModelProto { ir_version, graph { node Conv(x, w) -> y with ints and a float attribute,
// initializer w [2, 3] float32 in raw_data, input x, output y } }.
Bytes tinyModel() {
  Bytes attrInts, attrFloat, node, tensor, graph, model, input, output;
  text(attrInts, 1, "kernel_shape");
  key(attrInts, 8, 2);  // packed ints
  Bytes packed;
  varint(packed, 3);
  varint(packed, 1);
  varint(packed, 300);
  varint(attrInts, packed.size());
  attrInts.insert(attrInts.end(), packed.begin(), packed.end());
  text(attrFloat, 1, "alpha");
  key(attrFloat, 2, 5);
  const float alpha = 0.25f;
  uint8_t raw4[4];
  std::memcpy(raw4, &alpha, 4);
  attrFloat.insert(attrFloat.end(), raw4, raw4 + 4);
  text(node, 1, "x");
  text(node, 1, "w");
  text(node, 2, "y");
  text(node, 4, "Conv");
  lengthDelimited(node, 5, attrInts);
  lengthDelimited(node, 5, attrFloat);
  intField(tensor, 1, 2);
  intField(tensor, 1, 3);
  intField(tensor, 2, 1);  // FLOAT
  text(tensor, 8, "w");
  const float w[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
  Bytes raw(sizeof w);
  std::memcpy(raw.data(), w, sizeof w);
  lengthDelimited(tensor, 9, raw);
  text(input, 1, "x");
  text(output, 1, "y");
  lengthDelimited(graph, 1, node);
  lengthDelimited(graph, 5, tensor);
  lengthDelimited(graph, 11, input);
  lengthDelimited(graph, 12, output);
  intField(model, 1, 8);
  lengthDelimited(model, 7, graph);
  return model;
}

// Parses, and also asks the CRNN loader (which must say "not BDA" or throw a coded error).
bool parsesOrCodedError(const Bytes& b) {
  try {
    (void)de::ml::readOnnxGraph(b.data(), b.size());
    std::string why;
    return de::beat::BeatNetCrnn::fromOnnx(b.data(), b.size(), de::beat::RecurrentPrecision::kFloat16, &why) ==
               nullptr &&
           !why.empty();
  } catch (const de::Error& e) {
    return std::string(e.code()) == de::code::kModelInvalid;
  }
}

}  // namespace

TEST_CASE("onnx reader: nodes, attributes, initializers, inputs and outputs") {
  const Bytes m = tinyModel();
  const de::ml::OnnxGraph g = de::ml::readOnnxGraph(m.data(), m.size());
  CHECK(g.nodes.size() == 1);
  CHECK(g.nodes[0].opType == "Conv");
  CHECK((g.nodes[0].inputs == std::vector<std::string>{"x", "w"}));
  CHECK((g.nodes[0].attributes.at("kernel_shape").ints == std::vector<int64_t>{3, 1, 300}));
  CHECK((g.nodes[0].attributes.at("alpha").floats == std::vector<float>{0.25f}));
  const auto& w = g.initializers.at("w");
  CHECK((w.dims == std::vector<int64_t>{2, 3}));
  CHECK(w.dataType == 1);
  CHECK((w.data == std::vector<float>{1, -2, 3.5f, 0, 1e-3f, -7}));
  CHECK((g.inputs == std::vector<std::string>{"x"}));
  CHECK((g.outputs == std::vector<std::string>{"y"}));
  std::string why;
  CHECK(de::beat::BeatNetCrnn::fromOnnx(m.data(), m.size(), de::beat::RecurrentPrecision::kFloat16, &why) == nullptr);
  CHECK(why.find("features") != std::string::npos);  // not BeatNet's input and output
}

TEST_CASE("onnx reader: every prefix and every flipped byte ends in a model or DE_MODEL_INVALID") {
  const Bytes m = tinyModel();
  for (size_t n = 0; n < m.size(); ++n) CHECK(parsesOrCodedError(Bytes(m.begin(), m.begin() + n)));
  for (size_t i = 0; i < m.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      Bytes b = m;
      b[i] ^= flip;
      CHECK(parsesOrCodedError(b));
    }
  }
  CHECK_THROWS_CODE(de::ml::readOnnxGraph(m.data(), 0), de::code::kModelInvalid);  // no graph
}

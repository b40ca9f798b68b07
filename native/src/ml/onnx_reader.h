// A reader for the part of an ONNX model (protobuf wire format, onnx.proto3) that the built-in
// networks need: the graph's nodes with their integer, float and string attributes, and its
// float32 initializers. Anything it does not model (subgraphs, external data, other element
// types) is skipped or reported, so a caller can decide that the model is not one it knows and
// hand it to ONNX Runtime instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace de::ml {

struct OnnxAttribute {
  std::vector<int64_t> ints;  // `i` (one value) or `ints`
  std::vector<float> floats;  // `f` (one value) or `floats`
  std::string s;
  bool hasTensor = false;  // `t` (e.g. a Constant's value), read into `ints`/`floats` when small
};

struct OnnxNode {
  std::string opType;
  std::string domain;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, OnnxAttribute> attributes;
};

struct OnnxInitializer {
  std::vector<int64_t> dims;
  int32_t dataType = 0;     // TensorProto.DataType (1 = float)
  std::vector<float> data;  // float32 initializers only; empty otherwise
  bool external = false;    // stored outside the model file
};

struct OnnxGraph {
  std::vector<OnnxNode> nodes;
  std::map<std::string, OnnxInitializer> initializers;
  std::vector<std::string> inputs;  // graph inputs that are not initializers
  std::vector<std::string> outputs;
};

// Parses a serialized ModelProto. Throws de::Error DE_MODEL_INVALID on malformed bytes.
OnnxGraph readOnnxGraph(const uint8_t* data, size_t size);

}  // namespace de::ml

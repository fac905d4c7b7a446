import protobuf from 'protobufjs';

/**
 * The part of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) that Kennel writes, with the
 * real field numbers. Defined here instead of loading the .proto file because the machine may be
 * offline and the subset is small; fields Kennel never writes (sparse tensors, training info,
 * functions, sequences and maps) are left out, which protobuf decoding tolerates.
 */
const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0;
    FLOAT = 1;
    INT = 2;
    STRING = 3;
    TENSOR = 4;
    GRAPH = 5;
    FLOATS = 6;
    INTS = 7;
    STRINGS = 8;
    TENSORS = 9;
    GRAPHS = 10;
  }
  optional string name = 1;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

// ModelProto's metadata alone: decoding skips the graph (field 7) without reading its weights.
message ModelMetadata {
  repeated StringStringEntryProto metadata_props = 14;
}
`;

const root = protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root;
const modelProtoType = root.lookupType('onnx.ModelProto');
const modelMetadataType = root.lookupType('onnx.ModelMetadata');

/**
 * An ONNX model's metadata_props (what torch.onnx.export's callers and onnx.helper set as
 * key/value strings), read without decoding the graph. Later duplicates win.
 */
export function readMetadataProps(bytes: Uint8Array): Record<string, string> {
  const message = modelMetadataType.toObject(modelMetadataType.decode(bytes), { arrays: true }) as { metadata_props: { key?: string; value?: string }[] };
  const props: Record<string, string> = {};
  for (const { key, value } of message.metadata_props) if (key !== undefined) props[key] = value ?? '';
  return props;
}

/** TensorProto.DataType values Kennel uses. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values Kennel uses. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** ONNX IR version 8 is the one onnx 1.10–1.12 write; every current runtime reads it. */
export const IR_VERSION = 8;

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: DataTypeCode;
  /** Fixed-width little-endian element bytes. */
  raw_data: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: (typeof AttributeType)[keyof typeof AttributeType];
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

export type TensorShapeDimension = { dim_value: number } | { dim_param: string };

export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: DataTypeCode; shape: { dim: TensorShapeDimension[] } } };
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  doc_string?: string;
}

export interface ModelProto {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  graph: GraphProto;
  doc_string?: string;
  metadata_props?: { key: string; value: string }[];
}

/** Serialises a model to the ONNX file format (protobuf wire bytes). */
export function encodeModel(model: ModelProto): Uint8Array {
  return modelProtoType.encode(modelProtoType.fromObject(model)).finish();
}

/** Parses ONNX bytes back into the subset above; fields outside the subset are dropped. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const message = modelProtoType.decode(bytes);
  return modelProtoType.toObject(message, { longs: Number, arrays: true }) as ModelProto;
}

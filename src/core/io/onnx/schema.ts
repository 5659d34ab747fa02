/**
 * The part of the ONNX protobuf schema (onnx/onnx.proto, IR version 3 and later) that the reader
 * needs, field numbers as in the spec. Left out on purpose, so that the decoder skips their bytes
 * without building anything: subgraphs (AttributeProto.g = 6, graphs = 11), training info,
 * sparse tensors, sequence and map types. No message here contains itself, so decoding never recurses.
 */
import * as protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto2";
package onnx;

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
}

message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  optional int32 type = 20;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}

message TensorShapeProto {
  message Dimension {
    optional int64 dim_value = 1;
    optional string dim_param = 2;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

/** The ModelProto type, built once. */
export const MODEL_PROTO = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');

/** protobufjs gives int64 as a number or a Long: either way a JavaScript number, or NaN beyond 2^53. */
export type Int64 = number | { toString(): string };

export interface StringEntry { key?: string; value?: string }
export interface TensorMessage {
  dims: Int64[];
  data_type?: number;
  float_data: number[];
  int32_data: number[];
  int64_data: Int64[];
  double_data: number[];
  name?: string;
  raw_data?: Uint8Array;
  external_data: StringEntry[];
  data_location?: number;
}
export interface AttributeMessage {
  name?: string;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorMessage;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  type?: number;
}
export interface NodeMessage {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  attribute: AttributeMessage[];
  domain?: string;
}
export interface ValueInfoMessage {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim: { dim_value?: Int64; dim_param?: string }[] } } };
}
export interface GraphMessage {
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
}
export interface ModelMessage {
  ir_version?: Int64;
  producer_name?: string;
  graph?: GraphMessage;
  opset_import: { domain?: string; version?: Int64 }[];
}

export function int64(value: Int64 | undefined): number {
  if (value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value.toString());
  return Number.isSafeInteger(n) ? n : NaN;
}

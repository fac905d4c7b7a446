import { DomainError } from '../../core/errors.ts';
import {
  AttributeType,
  DataType,
  encodeModel,
  IR_VERSION,
  type AttributeProto,
  type DataTypeCode,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts';

export type ElementType = 'float' | 'int64' | 'int32' | 'bool';
/** A dimension: a fixed size, or a name for a size chosen at run time (e.g. the batch). */
export type Dim = number | string;
export type TensorData = Float32Array | BigInt64Array | Int32Array;

/** Forces an attribute to FLOAT / FLOATS when every value happens to be an integer. */
export interface FloatAttribute {
  float: number;
}
export interface FloatsAttribute {
  floats: readonly number[];
}
/**
 * Plain numbers become INT when integral and FLOAT otherwise; number arrays likewise become
 * INTS or FLOATS. Wrap in { float } / { floats } where ONNX wants floats that look integral.
 */
export type AttributeValue = number | string | readonly number[] | FloatAttribute | FloatsAttribute;

const ELEMENT_TYPES: Record<ElementType, DataTypeCode> = {
  float: DataType.FLOAT,
  int64: DataType.INT64,
  int32: DataType.INT32,
  bool: DataType.BOOL,
};

/** Opset 17: read by every onnxruntime since 1.12 and written by torch.onnx since PyTorch 1.13. */
export const DEFAULT_OPSET = 17;

export interface ModelOptions {
  opsetVersion?: number;
  docString?: string;
  metadata?: Record<string, string>;
}

/**
 * Builds an ONNX graph by hand: declare inputs, initializers and nodes, then `build()` the model
 * bytes. Values are referred to by name, as in ONNX itself; `op()` names outputs automatically so
 * long chains read like the maths they compute.
 */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private nextId = 0;

  constructor(readonly name: string) {}

  input(name: string, elementType: ElementType, shape: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, elementType, shape));
    return name;
  }

  output(name: string, elementType: ElementType, shape: readonly Dim[]): void {
    if (!this.names.has(name)) {
      throw new DomainError('Internal', `graph ${this.name}: output ${name} is not produced by any node or input`);
    }
    this.outputs.push(valueInfo(name, elementType, shape));
  }

  /** A named constant tensor stored in the model (weights, or small constants given a name). */
  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      const message = `initializer ${name}: dims [${dims.join(', ')}] hold ${count} values, data has ${data.length}`;
      throw new DomainError('Internal', message);
    }
    this.claim(name);
    this.initializers.push({
      name,
      dims: [...dims],
      data_type: dataTypeOf(data),
      raw_data: littleEndianBytes(data),
    });
    return name;
  }

  /** An automatically named initializer, for small constants used by one or two nodes. */
  constant(data: TensorData, dims: readonly number[] = [data.length]): string {
    return this.initializer(this.freshName('const'), data, dims);
  }

  /** A float scalar constant (rank 0), which broadcasts against any tensor. */
  scalar(value: number): string {
    return this.constant(Float32Array.of(value), []);
  }

  /** Adds a node with explicitly named outputs. An empty input name marks an omitted optional input. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
  ): void {
    for (const input of inputs) {
      if (input !== '' && !this.names.has(input)) {
        throw new DomainError('Internal', `graph ${this.name}: ${opType} reads ${input}, which is not defined yet`);
      }
    }
    for (const output of outputs) this.claim(output);
    this.nodes.push({
      name: `${opType}_${this.nodes.length}`,
      op_type: opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
  }

  /** Adds a single-output node and returns the name of its output: `outputName`, or a generated one. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    outputName?: string,
  ): string {
    const output = outputName ?? this.freshName(opType.toLowerCase());
    this.node(opType, inputs, [output], attributes);
    return output;
  }

  build(options: ModelOptions = {}): Uint8Array {
    return encodeModel({
      ir_version: IR_VERSION,
      opset_import: [{ domain: '', version: options.opsetVersion ?? DEFAULT_OPSET }],
      producer_name: 'kennel',
      producer_version: '0.1.0',
      doc_string: options.docString,
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  private claim(name: string): void {
    if (name === '' || this.names.has(name)) {
      throw new DomainError('Internal', `graph ${this.name}: value name ${JSON.stringify(name)} is empty or defined twice`);
    }
    this.names.add(name);
  }

  private freshName(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.nextId++}`;
    while (this.names.has(name));
    return name;
  }
}

function valueInfo(name: string, elementType: ElementType, shape: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ELEMENT_TYPES[elementType],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function dataTypeOf(data: TensorData): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof BigInt64Array) return DataType.INT64;
  return DataType.INT32;
}

/**
 * ONNX raw_data is little-endian. Typed arrays use the host byte order, which is little-endian on
 * every platform onnxruntime-node ships for, so the bytes are copied as they are.
 */
function littleEndianBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function attributeProto(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  const list = value as readonly number[];
  return list.every(Number.isInteger)
    ? { name, type: AttributeType.INTS, ints: [...list] }
    : { name, type: AttributeType.FLOATS, floats: [...list] };
}

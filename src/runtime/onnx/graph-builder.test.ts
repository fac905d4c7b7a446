import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './graph-builder.ts';
import { AttributeType, DataType, decodeModel, IR_VERSION } from './proto.ts';

/** y = 0.5 · x·Wᵀ + b, with W stored [out, in] as PyTorch does. */
function gemmModel(): Uint8Array {
  const g = new GraphBuilder('gemm');
  const x = g.input('x', 'float', ['batch', 3]);
  const w = g.initializer('w', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
  const b = g.initializer('b', Float32Array.of(10, -10), [2]);
  g.node('Gemm', [x, w, b], ['y'], { transB: 1, alpha: 0.5 });
  g.output('y', 'float', ['batch', 2]);
  return g.build({ docString: 'test', metadata: { purpose: 'round-trip' } });
}

describe('GraphBuilder', () => {
  it('builds a model ONNX Runtime loads and computes with', async () => {
    const session = await ort.InferenceSession.create(gemmModel());
    try {
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 0, -1, 2, 2, 2), [2, 3]) });
      // Row 1: 0.5·[1−3, 4−6] + [10, −10]; row 2: 0.5·[12, 30] + [10, −10]
      assert.deepEqual(out.y.dims, [2, 2]);
      assert.deepEqual(Array.from(out.y.data as Float32Array), [9, -11, 16, 5]);
    } finally {
      await session.release();
    }
  });

  it('encodes the ONNX fields that decode back to what was built', () => {
    const model = decodeModel(gemmModel());
    assert.equal(model.ir_version, IR_VERSION);
    assert.deepEqual(model.opset_import.map((o) => o.version), [17]);
    assert.equal(model.producer_name, 'kennel');
    assert.deepEqual(model.metadata_props, [{ key: 'purpose', value: 'round-trip' }]);
    const graph = model.graph;
    assert.deepEqual(graph.input.map((i) => i.name), ['x']);
    assert.deepEqual(graph.input[0].type.tensor_type.shape.dim, [{ dim_param: 'batch' }, { dim_value: 3 }]);
    assert.equal(graph.input[0].type.tensor_type.elem_type, DataType.FLOAT);
    const [node] = graph.node;
    assert.equal(node.op_type, 'Gemm');
    assert.deepEqual(node.input, ['x', 'w', 'b']);
    const attributes = Object.fromEntries(node.attribute.map((a) => [a.name, a]));
    assert.equal(attributes.transB.type, AttributeType.INT);
    assert.equal(attributes.transB.i, 1);
    assert.equal(attributes.alpha.type, AttributeType.FLOAT);
    assert.equal(attributes.alpha.f, 0.5);
    const w = graph.initializer.find((t) => t.name === 'w')!;
    assert.deepEqual(w.dims, [2, 3]);
    assert.deepEqual(Array.from(new Float32Array(Uint8Array.from(w.raw_data).buffer)), [1, 2, 3, 4, 5, 6]);
  });

  it('types attributes as ONNX expects: integral numbers are INT unless wrapped as floats', () => {
    const g = new GraphBuilder('attributes');
    const x = g.input('x', 'float', [4]);
    g.node('Identity', [x], ['y'], { n: 2, f: { float: 1 }, ns: [1, 2], fs: [0.5, 1], forced: { floats: [1, 2] }, s: 'text' });
    g.output('y', 'float', [4]);
    const attributes = Object.fromEntries(decodeModel(g.build()).graph.node[0].attribute.map((a) => [a.name, a]));
    assert.equal(attributes.n.type, AttributeType.INT);
    assert.equal(attributes.f.type, AttributeType.FLOAT);
    assert.equal(attributes.f.f, 1);
    assert.deepEqual([attributes.ns.type, attributes.ns.ints], [AttributeType.INTS, [1, 2]]);
    assert.deepEqual([attributes.fs.type, attributes.fs.floats], [AttributeType.FLOATS, [0.5, 1]]);
    assert.deepEqual([attributes.forced.type, attributes.forced.floats], [AttributeType.FLOATS, [1, 2]]);
    assert.equal(new TextDecoder().decode(attributes.s.s), 'text');
  });

  it('names op outputs uniquely and refuses undefined or duplicate values', () => {
    const g = new GraphBuilder('names');
    const x = g.input('x', 'float', [2]);
    const a = g.op('Relu', [x]);
    const b = g.op('Relu', [a]);
    assert.notEqual(a, b);
    assert.throws(() => g.op('Relu', ['missing']), /reads missing, which is not defined yet/);
    assert.throws(() => g.input('x', 'float', [2]), /defined twice/);
    assert.throws(() => g.output('nowhere', 'float', [2]), /not produced/);
    assert.throws(() => g.initializer('w', Float32Array.of(1, 2, 3), [2, 2]), /hold 4 values, data has 3/);
  });
});

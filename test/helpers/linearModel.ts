/** A hand-checkable ONNX model built in code: y = x · W + b (W [3, 2]), optionally through a ReLU. */
import { buildModel } from '../../lib/models/onnxBuilder.js';

const W = new Float32Array([1, -2, 0.5, 3, 0.25, -1]); // [3, 2], row-major
const B = new Float32Array([0.5, -0.5]);

/** The model's bytes: input `x` [batch, 3], output `y` [batch, 2]. */
export function linearModel({ relu = false } = {}): Uint8Array {
  const add = { op: 'Add', inputs: ['xw', 'b'], outputs: [relu ? 'pre' : 'y'] };
  return buildModel({
    inputs: [{ name: 'x', shape: ['batch', 3] }],
    outputs: [{ name: 'y', shape: ['batch', 2] }],
    initializers: [
      { name: 'W', dims: [3, 2], data: W },
      { name: 'b', dims: [2], data: B },
    ],
    nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] }, add, ...(relu ? [{ op: 'Relu', inputs: ['pre'], outputs: ['y'] }] : [])],
  });
}

/** What linearModel computes for `x`, rows of 3 values one after another; 2 outputs a row. */
export function linearExpected(x: number[], { relu = false } = {}): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / 3; r++) {
    for (let c = 0; c < 2; c++) {
      let s = B[c]!;
      for (let k = 0; k < 3; k++) s += x[r * 3 + k]! * W[k * 2 + c]!;
      out.push(relu ? Math.max(0, s) : s);
    }
  }
  return out;
}

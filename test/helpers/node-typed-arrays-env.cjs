// A jest environment whose typed arrays are Node's own. Jest gives each test file a fresh realm, so a Float32Array
// made by a native addon (onnxruntime-node's outputs) fails `instanceof Float32Array` in code loaded into the test's
// realm (onnxruntime-common checks exactly that). Test files that run onnxruntime name this environment.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Uint16Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
];

class NodeTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = NodeTypedArraysEnvironment;

// Running an exported ONNX model with onnxruntime-node, when it is installed: an optional package (its CPU runtime
// ships inside it; `ONNXRUNTIME_NODE_INSTALL=skip` or .npmrc's onnxruntime-node-install=skip avoids its CUDA download).
import { GRAPH_INPUT, type ClipBatch, type GraphOutputs } from './network-graph.js';

export type OnnxRun = (GraphOutputs & { runtime: string }) | { reason: string };

export async function runOnnx(model: Uint8Array, clips: ClipBatch): Promise<OnnxRun> {
  let ort: typeof import('onnxruntime-node');
  try {
    const mod = await import('onnxruntime-node');
    // A CommonJS package: Node gives its exports as the default; tsx may give them as named exports only.
    ort = (mod as { default?: typeof ort }).default ?? (mod as unknown as typeof ort);
  } catch {
    return { reason: 'onnxruntime-node is not installed (ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node)' };
  }
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run({ [GRAPH_INPUT]: new ort.Tensor('float32', clips.data, clips.shape) });
    return {
      runtime: `onnxruntime-node ${ort.env.versions.node}`,
      logits: out.logits.data as Float32Array,
      features: out.features.data as Float32Array,
    };
  } finally {
    await session.release();
  }
}

// The face detector: @vladmandic/face-api's tiny face detector and its 68-point landmark net, weights from the npm
// package's own model/ folder (nothing is downloaded). It runs in whatever thread loads it on TensorFlow.js' wasm
// backend: src/faces/worker.ts loads it in a worker thread, so that it neither takes the main thread's backend from
// the network (face-api's small depthwise convolutions run ~7x faster on wasm than on the native engine) nor blocks it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One face in one frame, in the frame's pixels. */
export interface DetectedFace {
  /** x, y, width, height. */
  box: [number, number, number, number];
  score: number;
  /** Centres of the left and right eye as seen in the image (x grows to the right), from the 68 landmarks. */
  leftEye: [number, number];
  rightEye: [number, number];
}

export interface DetectorOptions {
  /** Input side of the tiny detector (a multiple of 32; larger finds smaller faces, slower). */
  inputSize?: number;
  /** Minimum detection score. */
  minScore?: number;
}

export const DETECTOR = {
  name: '@vladmandic/face-api',
  detector: 'tinyFaceDetector',
  landmarks: 'faceLandmark68Net',
} as const;

type FaceApi = typeof import('@vladmandic/face-api');
let loaded: Promise<FaceApi> | undefined;

const require = createRequire(import.meta.url);

/** face-api's node-wasm build (it shares the thread's @tensorflow/tfjs), on the wasm backend, with its weights loaded. */
function load(): Promise<FaceApi> {
  loaded ??= (async () => {
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    const tf = api.tf as unknown as {
      setBackend(n: string): Promise<boolean>;
      ready(): Promise<void>;
      getBackend(): string;
    };
    await tf.setBackend('wasm');
    await tf.ready();
    const models = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    await api.nets.tinyFaceDetector.loadFromDisk(models);
    await api.nets.faceLandmark68Net.loadFromDisk(models);
    return api;
  })();
  return loaded;
}

const mean = (pts: { x: number; y: number }[]): [number, number] => [
  pts.reduce((a, p) => a + p.x, 0) / pts.length,
  pts.reduce((a, p) => a + p.y, 0) / pts.length,
];

/** Every face in an RGB frame (width x height x 3 bytes), with its eye centres. */
export async function detectFaces(
  frame: { width: number; height: number; data: Uint8Array },
  o: DetectorOptions = {},
): Promise<DetectedFace[]> {
  const api = await load();
  const input = api.tf.tensor3d(frame.data, [frame.height, frame.width, 3], 'int32');
  try {
    const options = new api.TinyFaceDetectorOptions({
      inputSize: o.inputSize ?? 224,
      scoreThreshold: o.minScore ?? 0.4,
    });
    const found = await api.detectAllFaces(input as never, options).withFaceLandmarks();
    return found.map((f) => {
      const b = f.detection.box;
      // The image's left eye is the person's right eye (points 36-41); "left" here means the image's left.
      const a = mean(f.landmarks.getLeftEye());
      const c = mean(f.landmarks.getRightEye());
      const [leftEye, rightEye] = a[0] <= c[0] ? [a, c] : [c, a];
      return { box: [b.x, b.y, b.width, b.height], score: f.detection.score, leftEye, rightEye };
    });
  } finally {
    input.dispose();
  }
}

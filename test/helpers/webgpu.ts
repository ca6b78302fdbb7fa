// WebGPU tests run in the webgpu pass (DFER_TEST_BACKEND=webgpu: npm run test:webgpu), on whatever adapter Dawn finds:
// Mesa's lavapipe in CI, a real GPU elsewhere. A missing adapter fails that pass instead of skipping it.
import { probeWebGpu } from '../../src/webgpu/device.js';

export async function requireWebGpu(): Promise<void> {
  const { status } = await probeWebGpu();
  if (!status.available) throw new Error(`the WebGPU tests need an adapter: ${status.detail}`);
}

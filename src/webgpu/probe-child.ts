// `node probe-child.js`: prints the WebGPU adapter status as one JSON line. `dfer doctor` runs it in a child process
// because Dawn writes warnings straight to the process's stderr when it opens some drivers (lavapipe's limits), and
// a report should not come with noise it cannot filter.
import { probeWebGpu } from './device.js';

const { status } = await probeWebGpu();
process.stdout.write(JSON.stringify(status) + '\n');
process.exit(0);

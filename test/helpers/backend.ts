// The backend the suite runs on: wasm by default, DFER_TEST_BACKEND=native for the native engine's pass (.ci/run runs
// both). Tests that compare two specific backends name them instead.
import type { BackendChoice } from '../../src/backend.js';

export const TEST_BACKEND = (process.env.DFER_TEST_BACKEND ?? 'wasm') as BackendChoice;

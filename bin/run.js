#!/usr/bin/env node
// The dfer CLI: oclif loads the compiled commands from dist/commands (run `npm run build` first).
import { execute, settings } from '@oclif/core';

// Always run the compiled JavaScript: under NODE_ENV=test/development oclif would otherwise look for the
// TypeScript sources and try to transpile them on the fly.
settings.enableAutoTranspile = false;

await execute({ dir: import.meta.url });

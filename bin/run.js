#!/usr/bin/env node
// The dfer CLI: oclif loads the compiled commands from dist/commands (run `npm run build` first).
// NO_COLOR (no-color.org): chalk, under Ink and oclif, reads only FORCE_COLOR, and reads it when first imported.
if (process.env.NO_COLOR && process.env.FORCE_COLOR === undefined) process.env.FORCE_COLOR = '0';
const { execute, settings } = await import('@oclif/core');

// Always run the compiled JavaScript: under NODE_ENV=test/development oclif would otherwise look for the
// TypeScript sources and try to transpile them on the fly.
settings.enableAutoTranspile = false;

await execute({ dir: import.meta.url });

import { createConfig, deriveShapes, diffConfigs, ConfigError } from '../../src/config.js';

describe('model config', () => {
  test('paper preset derives the shapes the official code hard-codes', () => {
    const s = deriveShapes(createConfig('paper'));
    expect(s).toMatchObject({
      layer2: 14,
      layer3: 7,
      fused: 4,
      spatialTokens: 16,
      temporalTokens: 15,
      temporalDim: 4096,
    });
  });

  test('small preset: 64 px, token dim 128 x 2 x 2 = 512', () => {
    const s = deriveShapes(createConfig('small'));
    expect(s).toMatchObject({ layer2: 8, layer3: 4, fused: 2, spatialTokens: 4, temporalDim: 512 });
  });

  test('bad fields are named', () => {
    expect(() => createConfig('paper', { reduction: 7 })).toThrow(/reduction/);
    expect(() => createConfig('paper', { patchDim: 128 })).toThrow(/patchDim/);
    expect(() => createConfig('nope')).toThrow(ConfigError);
  });

  test('diffConfigs names differing fields', () => {
    expect(diffConfigs(createConfig('paper'), createConfig('paper', { reduction: 8 }))).toEqual(['reduction: 16 -> 8']);
    expect(diffConfigs(createConfig('paper'), createConfig('paper'))).toEqual([]);
  });
});

// Model configuration: the presets and every architectural knob the paper's ablations touch.
// Presets are data, not code paths (timm-style): one builder (src/model/network.ts) reads any config.
import { DferError } from './errors.js';

export const ATTENTION_TYPES = ['none', 'se', 'cbam', 'gca'] as const;
export type AttentionType = (typeof ATTENTION_TYPES)[number];

/** DFEW's class order (labels 1..7 minus 1), used by the official code and by every dfer dataset. */
export const DFEW_CLASSES = ['happiness', 'sadness', 'neutral', 'anger', 'surprise', 'disgust', 'fear'] as const;

export interface TransformerConfig {
  depth: number;
  heads: number;
  dimHead: number;
  mlpDim: number;
}

export interface ModelConfig {
  /** Input frame side in pixels (square frames). */
  imageSize: number;
  /** Frames per clip, T = U x V. */
  frames: number;
  /** Output channels of the stem's two 3x3 convolutions. */
  stemWidth: number;
  /** Widths of layer1, layer2, layer3 (one BasicBlock each) and layer4 (the dynamic branch). */
  widths: [number, number, number, number];
  /** Blocks in layer4 (the dynamic branch; 3 in the official code). */
  dynamicDepth: number;
  /** Channel attention inside the layer2 and layer3 blocks. */
  attention: AttentionType;
  /** Reduction ratio r of the attention MLP (C -> C/r -> C). */
  reduction: number;
  /** Auxiliary classifier on the attention descriptor of layer2/layer3 (GCA's aux head). */
  aux: boolean;
  /** Weights of the aux losses of layer2 and layer3 (official: 0.05 and 0). */
  auxWeights: [number, number];
  /** Token width of the static branch (patch embedding output channels); must equal widths[3] for the fusion sum. */
  patchDim: number;
  spatialTransformer: TransformerConfig;
  temporalTransformer: TransformerConfig;
  numClasses: number;
  classes: string[];
}

export const PRESETS: Record<string, ModelConfig> = {
  // Exactly the official network (final_model.GenerateModel).
  paper: {
    imageSize: 112,
    frames: 16,
    stemWidth: 64,
    widths: [64, 128, 256, 256],
    dynamicDepth: 3,
    attention: 'gca',
    reduction: 16,
    aux: true,
    auxWeights: [0.05, 0],
    patchDim: 256,
    spatialTransformer: { depth: 2, heads: 4, dimHead: 32, mlpDim: 256 },
    temporalTransformer: { depth: 2, heads: 4, dimHead: 32, mlpDim: 512 },
    numClasses: 7,
    classes: [...DFEW_CLASSES],
  },
  // The same architecture sized for CPU work (token dim 128 x 2 x 2 = 512).
  small: {
    imageSize: 64,
    frames: 16,
    stemWidth: 32,
    widths: [32, 64, 128, 128],
    dynamicDepth: 3,
    attention: 'gca',
    reduction: 16,
    aux: true,
    auxWeights: [0.05, 0],
    patchDim: 128,
    spatialTransformer: { depth: 2, heads: 4, dimHead: 16, mlpDim: 128 },
    temporalTransformer: { depth: 2, heads: 4, dimHead: 16, mlpDim: 256 },
    numClasses: 7,
    classes: [...DFEW_CLASSES],
  },
};

/** Spatial sizes that the official code hard-codes (7x7, 16 patches, 15 tokens), derived from the config. */
export interface DerivedShapes {
  stem: number; // after conv1 (stride 2)
  layer1: number; // after max-pool (stride 2)
  layer2: number;
  layer3: number;
  fused: number; // after layer4 / patch embedding (stride 2)
  spatialTokens: number; // fused^2 (16 in the paper preset)
  temporalTokens: number; // T - 1 frame differences (15)
  temporalDim: number; // patchDim * fused^2 (4096)
}

const down = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;

export function deriveShapes(c: ModelConfig): DerivedShapes {
  const stem = down(c.imageSize, 3, 2, 1);
  const layer1 = down(stem, 3, 2, 1);
  const layer2 = down(layer1, 3, 2, 1);
  const layer3 = down(layer2, 3, 2, 1);
  const fused = down(layer3, 3, 2, 1);
  return {
    stem,
    layer1,
    layer2,
    layer3,
    fused,
    spatialTokens: fused * fused,
    temporalTokens: c.frames - 1,
    temporalDim: c.patchDim * fused * fused,
  };
}

export class ConfigError extends DferError {}

/** Throws a ConfigError naming the field when a config cannot build a network. */
export function validateConfig(c: ModelConfig): ModelConfig {
  const fail = (field: string, why: string) => {
    throw new ConfigError(`model config: ${field} ${why}`);
  };
  const posInt = (v: unknown, field: string) => {
    if (!Number.isInteger(v) || (v as number) < 1) fail(field, `must be a positive integer (got ${JSON.stringify(v)})`);
  };
  posInt(c.imageSize, 'imageSize');
  posInt(c.frames, 'frames');
  if (c.frames < 2) fail('frames', 'must be at least 2 (the dynamic branch uses frame differences)');
  posInt(c.stemWidth, 'stemWidth');
  if (!Array.isArray(c.widths) || c.widths.length !== 4) fail('widths', 'must list 4 widths (layer1..layer4)');
  c.widths.forEach((w, i) => posInt(w, `widths[${i}]`));
  posInt(c.dynamicDepth, 'dynamicDepth');
  if (!ATTENTION_TYPES.includes(c.attention))
    fail('attention', `must be one of ${ATTENTION_TYPES.join('|')} (got ${c.attention})`);
  posInt(c.reduction, 'reduction');
  for (const [i, w] of [c.widths[1], c.widths[2]].entries()) {
    if (c.attention !== 'none' && w % c.reduction !== 0) {
      fail('reduction', `r=${c.reduction} must divide the layer${i + 2} width ${w}`);
    }
  }
  posInt(c.patchDim, 'patchDim');
  if (c.patchDim !== c.widths[3])
    fail('patchDim', `must equal widths[3] (${c.widths[3]}): static and dynamic branches are summed`);
  for (const [name, t] of [
    ['spatialTransformer', c.spatialTransformer],
    ['temporalTransformer', c.temporalTransformer],
  ] as const) {
    posInt(t.depth, `${name}.depth`);
    posInt(t.heads, `${name}.heads`);
    posInt(t.dimHead, `${name}.dimHead`);
    posInt(t.mlpDim, `${name}.mlpDim`);
  }
  posInt(c.numClasses, 'numClasses');
  if (c.classes.length !== c.numClasses)
    fail('classes', `lists ${c.classes.length} names but numClasses is ${c.numClasses}`);
  if (deriveShapes(c).fused < 1) fail('imageSize', `${c.imageSize} is too small for five stride-2 stages`);
  return c;
}

export type ModelOverrides = Partial<Omit<ModelConfig, 'spatialTransformer' | 'temporalTransformer'>> & {
  spatialTransformer?: Partial<TransformerConfig>;
  temporalTransformer?: Partial<TransformerConfig>;
};

/** The one entry point: a preset plus overrides, validated. */
export function createConfig(preset: string, overrides: ModelOverrides = {}): ModelConfig {
  const base = PRESETS[preset];
  if (!base) throw new ConfigError(`unknown preset "${preset}": choose one of ${Object.keys(PRESETS).join(', ')}`);
  const c: ModelConfig = {
    ...structuredClone(base),
    ...overrides,
    spatialTransformer: { ...base.spatialTransformer, ...overrides.spatialTransformer },
    temporalTransformer: { ...base.temporalTransformer, ...overrides.temporalTransformer },
  } as ModelConfig;
  if (overrides.classes && overrides.numClasses === undefined) c.numClasses = overrides.classes.length;
  return validateConfig(c);
}

/** Field-by-field differences between two configs, as "field: a -> b" strings (empty when equal). */
export function diffConfigs(expected: unknown, actual: unknown, path = ''): string[] {
  if (typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].flatMap((k) =>
      diffConfigs(
        (expected as Record<string, unknown>)[k],
        (actual as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      ),
    );
  }
  return JSON.stringify(expected) === JSON.stringify(actual)
    ? []
    : [`${path}: ${JSON.stringify(expected)} -> ${JSON.stringify(actual)}`];
}

// Each dataset's training protocol: the settings the paper (and the authors' code, MODEL.md) used for it. Training
// takes them by default, so `dfer train` on FERV39k samples U=8 x V=2 for 100 epochs without anyone typing it, which
// is where users of the authors' code go wrong. The built-in defaults (options.ts) are DFEW's; a protocol only names
// what differs or what the paper fixes for that dataset, so a user's own set (custom) trains with the code's defaults.
import type { DatasetKind } from '../data/store.js';
import type { TrainSettings } from './options.js';

export interface DatasetProtocol {
  /** The dataset's name as papers write it. */
  name: string;
  /** Where the settings come from, for the line printed at the start of training. */
  basis: string;
  /** Settings this dataset trains with unless a flag, DFER_* variable, --config file or dfer.json says otherwise. */
  settings: TrainSettings;
}

/** DFEW's settings in the paper (also MAFW's here). */
const DFEW_SETTINGS: TrainSettings = { u: 16, v: 1, epochs: 80, batch: 40, lambda: 0.1 };

export const PROTOCOLS: Record<DatasetKind, DatasetProtocol> = {
  dfew: {
    name: 'DFEW',
    basis: 'the paper: U=16 x V=1, 80 epochs, batch 40, lambda 0.1; 5-fold cross-validation',
    settings: DFEW_SETTINGS,
  },
  ferv39k: {
    name: 'FERV39k',
    basis: 'the paper: U=8 x V=2, 100 epochs, batch 40, lambda 0.1; one official train/test split',
    settings: { u: 8, v: 2, epochs: 100, batch: 40, lambda: 0.1 },
  },
  mafw: {
    name: 'MAFW',
    // The paper does not train on MAFW; its DFEW settings are the nearest (clips of similar length, 5 folds).
    basis:
      "DFEW's settings (the paper does not train on MAFW): U=16 x V=1, 80 epochs, batch 40, lambda 0.1; 11 classes, 5-fold cross-validation",
    settings: DFEW_SETTINGS,
  },
  synthetic: {
    name: 'synthetic',
    // dfer synth imitates DFEW (its layout, class imbalance and 5 folds) but is small and easy: no paper protocol.
    basis:
      "dfer's synthetic benchmark: the official code's defaults, 5 folds (the demo's recipe is in dfer.json when dfer demo made the workspace)",
    settings: {},
  },
  custom: {
    name: 'custom',
    basis: "the official code's defaults (no dataset protocol for a user's own set)",
    settings: {},
  },
};

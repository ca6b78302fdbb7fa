// What the trainer and the evaluator report while they work. The core emits these; src/ui/ renders them (an Ink
// dashboard on a terminal, plain lines when piped, JSON lines with --json). Nothing here knows who is listening.
import type { Metrics } from '../metrics/metrics.js';

export interface LossParts {
  total: number;
  ce: number;
  ial: number;
  aux: number;
}

/** A run's dataset protocol (src/train/protocols.ts) as applied: the settings taken from it and those overridden. */
export interface RunProtocol {
  dataset: string;
  name: string;
  basis: string;
  fromProtocol: string[];
  overridden: Array<{ setting: string; value: unknown; from: string }>;
}

export type TrainEvent =
  | {
      type: 'run-start';
      runDir: string;
      epochs: number;
      stepsPerEpoch: number;
      trainClips: number;
      valClips: number;
      testClips: number;
      classes: string[];
      backend: string;
      resumedFrom?: { epoch: number; step: number };
      selectOn: 'val' | 'test';
      /** The dataset's protocol this run trains with, and which of its settings were overridden (and by what). */
      protocol?: RunProtocol;
    }
  | { type: 'epoch-start'; epoch: number; epochs: number; lr: number }
  /** Ctrl-C arrived: the run stops after the current step with a resumable checkpoint. */
  | { type: 'stopping'; reason: 'interrupt' }
  | {
      type: 'step';
      epoch: number;
      step: number; // within the epoch, 1-based
      stepsPerEpoch: number;
      globalStep: number;
      loss: LossParts;
      lr: number;
      clipsPerSecond: number;
      elapsed: number; // seconds since the run (or resume) started
      etaSeconds: number; // for the whole run
    }
  | { type: 'eval-progress'; split: string; done: number; total: number }
  | {
      type: 'epoch-end';
      epoch: number;
      epochs: number;
      trainLoss: LossParts; // mean over the epoch
      val?: Metrics; // on the selection split
      best: boolean; // this epoch became the selected checkpoint
      bestEpoch: number;
      seconds: number;
    }
  | { type: 'checkpoint'; path: string; kind: 'last' | 'best' | 'step' }
  | { type: 'test'; split: string; metrics: Metrics; checkpoint: string }
  | { type: 'run-end'; runDir: string; summary: Record<string, unknown>; interrupted: boolean };

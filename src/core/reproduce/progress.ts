/**
 * A run's events as log lines and as progress (a line and the fraction of the run's pieces done),
 * the same in `gccs reproduce` and GCCS: Reproduce the Paper. Types only from the engine: no
 * TensorFlow.js (the extension host uses it).
 */
import type { SweepEvent } from '../sweep/types';
import type { TrainEvent } from '../train/events';
import type { ReproduceEvent } from './types';

const MODEL_ACTIONS = { reuse: 'trained already, reused', resume: 'resuming its checkpoint', train: 'training' };

function trainLine(id: string, event: TrainEvent): string | undefined {
  if (event.type === 'warning') return `  ${id}: warning: ${event.message}`;
  if (event.type !== 'epoch') return undefined;
  const r = event.record;
  const validation = r.validationAccuracy === null ? '' : ` val acc ${(100 * r.validationAccuracy).toFixed(2)}%`;
  return `  ${id} epoch ${r.epoch}: loss ${r.loss.toFixed(4)}${validation} (${r.seconds.toFixed(1)} s)`;
}

function sweepLine(name: string, file: string, event: SweepEvent): string | undefined {
  if (event.type === 'start') return `${name}: ${event.total} attack cells, ${event.finished} finished already (${file})`;
  return undefined;
}

/** The event as a log line; undefined for the events that only move progress. */
export function reproduceEventLine(event: ReproduceEvent): string | undefined {
  switch (event.type) {
    case 'plan':
      return `${event.models.length} models (${event.models.join(', ')}), Figure 3 of ${event.figures.join(', ')}, sweeps ${event.sweeps.join(', ')}`;
    case 'model':
      return `${event.id}: ${MODEL_ACTIONS[event.action]} (${event.dir})`;
    case 'train':
      return trainLine(event.id, event.event);
    case 'evaluation':
      return `${event.id}: ${event.action === 'reuse' ? 'evaluated already, reused' : 'evaluating (gccs eval, gccs evaluate --preset quick)'}`;
    case 'figure':
      return `${event.id}: ${event.action === 'reuse' ? 'Figure 3 drawn already, reused' : 'Figure 3 (latent space of classes 0, 1, 9 under FGSM, PGD, TGSM, JSMA)'}`;
    case 'sweep':
      return sweepLine(event.name, event.file, event.event);
    default:
      return undefined;
  }
}

/** Where a run is: the piece it works on, what it is doing, how far it is through it. */
export interface ReproduceStep {
  /** e.g. "clr: training, epoch 2/3, step 10/72". */
  message: string;
  /** Of the run's pieces (each model's training and evaluation, each Figure 3, each sweep), in [0, 1]. */
  fraction: number;
}

/** Follows a run's events; each call returns where the run is now (undefined until its plan is known). */
export function reproduceTracker(): (event: ReproduceEvent) => ReproduceStep | undefined {
  let pieces: string[] = [];
  let index = 0;
  let epochs = 1;
  let step: { text: string; within: number } = { text: 'starting', within: 0 };
  const at = (piece: string, text: string, within = 0) => {
    index = Math.max(0, pieces.indexOf(piece));
    step = { text, within };
  };
  return (event) => {
    switch (event.type) {
      case 'plan':
        pieces = [
          ...event.models.map((id) => `train ${id}`),
          ...event.models.map((id) => `evaluate ${id}`),
          ...event.figures.map((id) => `figure ${id}`),
          ...event.sweeps,
        ];
        break;
      case 'model':
        at(`train ${event.id}`, `${event.id}: ${MODEL_ACTIONS[event.action]}`, event.action === 'reuse' ? 1 : 0);
        break;
      case 'train':
        if (event.event.type === 'start') epochs = event.event.epochs;
        if (event.event.type === 'step') {
          const { epoch, step: s, steps } = event.event;
          at(`train ${event.id}`, `${event.id}: training, epoch ${epoch}/${epochs}, step ${s}/${steps}`, (epoch - 1 + s / steps) / epochs);
        }
        break;
      case 'evaluation':
        at(`evaluate ${event.id}`, `${event.id}: ${event.action === 'reuse' ? 'evaluated already' : 'evaluating'}`, event.action === 'reuse' ? 1 : 0);
        break;
      case 'evaluationProgress':
        if (event.event.type === 'progress') {
          const { label, eps, done, total } = event.event;
          at(`evaluate ${event.id}`, `${event.id}: evaluating, ${label}${eps === null ? '' : ` ε ${eps}`} ${done}/${total}`);
        }
        break;
      case 'figure':
        at(`figure ${event.id}`, `${event.id}: Figure 3`, event.action === 'reuse' ? 1 : 0);
        break;
      case 'sweep':
        if (event.event.type === 'start' || event.event.type === 'cellDone') {
          const { finished, total } = event.event;
          at(event.name, `${event.name}: ${finished}/${total} attack cells`, total ? finished / total : 1);
        }
        break;
    }
    if (!pieces.length) return undefined;
    return { message: `${index + 1}/${pieces.length} ${step.text}`, fraction: Math.min(1, (index + step.within) / pieces.length) };
  };
}

/**
 * Extension host ↔ robustness webview (webview/robustness.ts, src/host/panels/robustness/panel.ts).
 */
import type { ExamplesOutput } from '../../../core/inspect/types';
import { GALLERY_LIMITS, WEBVIEW_LIMITS } from '../../../core/limits';
import type { SweepSummary } from '../../../core/sweep/summary';
import { absolutePath, saveMessages } from '../messages';
import { Checked, array, integer, optional, someFields, tagged, text } from '../messageCheck';

/** A finished sweep cell the gallery can show the adversarial examples of. */
export interface ExampleCell {
  /** The cell's id, as its chart point names it (SummaryChart `cell`). */
  id: string;
  /** e.g. "tiny · PGD · ε 0.1". */
  label: string;
  /** Samples the cell attacked. */
  count: number;
  /** Its ε (null without one): the picker starts on a cell that attacks (ε ≠ 0). */
  eps: number | null;
}

/** What the robustness panel shows: the summary of one or more sweeps' results. */
export interface RobustnessData {
  title: string;
  /** The results files the summary was made from. */
  sources: string[];
  summary: SweepSummary;
  /** The finished cells, for the adversarial-example gallery. */
  cells: ExampleCell[];
}

/** The gallery: a cell's first samples clean and attacked (a worker's `examples` answer), titled. */
export type ExamplesData = ExamplesOutput & { title: string };

/** The gallery's sample counts (the picker's choices; the first is the default). */
export const GALLERY_COUNTS = [12, 6, 24, 48] as const;

/** The panel's persisted state (vscode getState/setState, and the serializer's restore argument). */
export interface RobustnessState {
  /** The results files to reload when the panel comes back after a reload. */
  sources: string[];
  /** The last data shown, to draw at once when the panel becomes visible again. */
  data?: RobustnessData;
}

/** Host → webview. */
export type HostToRobustness =
  | { type: 'show'; data: RobustnessData }
  /** The results could not be read: shown in the panel instead of a chart. */
  | { type: 'error'; message: string }
  | { type: 'examples'; data: ExamplesData }
  /** The gallery is being computed (busy), was cancelled or failed: said where the gallery goes. */
  | { type: 'examplesStatus'; message: string; busy: boolean; isError: boolean };

/** A sweep cell's id: the hex hash planSweep gives it. */
const cellId = text({ maxLength: GALLERY_LIMITS.cellIdChars, pattern: /^[0-9a-f]+$/, what: 'a sweep cell id (hexadecimal)' });

/**
 * Webview → host (robustness panel): `ready` when the script runs and wants its data; `examples`
 * asks for the gallery of a cell's first `count` samples, `cancelExamples` stops it.
 */
export const checkRobustnessToHost = tagged({
  ready: {},
  examples: { cell: cellId, count: integer(1, GALLERY_LIMITS.samples) },
  cancelExamples: {},
  ...saveMessages,
});
export type RobustnessToHost = Checked<typeof checkRobustnessToHost>;

/** What the host reads of a restored robustness panel's saved state (RobustnessState). */
export const checkRestoredRobustness = someFields({ sources: optional(array(absolutePath, WEBVIEW_LIMITS.panelSources)) });
export type RestoredRobustness = Checked<typeof checkRestoredRobustness>;

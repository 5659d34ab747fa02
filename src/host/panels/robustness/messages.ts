/**
 * Extension host ↔ robustness webview (webview/robustness.ts, src/host/panels/robustness/panel.ts).
 */
import { WEBVIEW_LIMITS } from '../../../core/limits';
import type { SweepSummary } from '../../../core/sweep/summary';
import { absolutePath, saveMessages } from '../messages';
import { Checked, array, optional, someFields, tagged } from '../messageCheck';

/** What the robustness panel shows: the summary of one or more sweeps' results. */
export interface RobustnessData {
  title: string;
  /** The results files the summary was made from. */
  sources: string[];
  summary: SweepSummary;
}

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
  | { type: 'error'; message: string };

/** Webview → host (robustness panel): `ready` when the script runs and wants its data. */
export const checkRobustnessToHost = tagged({ ready: {}, ...saveMessages });
export type RobustnessToHost = Checked<typeof checkRobustnessToHost>;

/** What the host reads of a restored robustness panel's saved state (RobustnessState). */
export const checkRestoredRobustness = someFields({ sources: optional(array(absolutePath, WEBVIEW_LIMITS.panelSources)) });
export type RestoredRobustness = Checked<typeof checkRestoredRobustness>;

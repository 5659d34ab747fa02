/**
 * The event-loop lag of this process while `fn` runs: the drift of a 10 ms setInterval (how late
 * each tick fires) and perf_hooks.monitorEventLoopDelay at 10 ms resolution. Used by `npm run
 * bench` (the host side of a training worker) and the integration test (the real extension host,
 * where only a gross stall fails). No vscode import.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopLag {
  /** setInterval ticks measured, over `ms` milliseconds. */
  samples: number;
  ms: number;
  /** Drift of the ticks, in ms. */
  max: number;
  p99: number;
  /** monitorEventLoopDelay, in ms. */
  histMax: number;
  histP99: number;
}

/** Percentile (0–100) of ascending numbers, nearest rank. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function measuringEventLoopLag<T>(fn: () => Promise<T>): Promise<{ value: T; lag: EventLoopLag }> {
  const PERIOD = 10;
  const drifts: number[] = [];
  const histogram = monitorEventLoopDelay({ resolution: PERIOD });
  const t0 = performance.now();
  let last = t0;
  const timer = setInterval(() => {
    const now = performance.now();
    drifts.push(Math.max(0, now - last - PERIOD));
    last = now;
  }, PERIOD);
  histogram.enable();
  try {
    const value = await fn();
    const ms = performance.now() - t0;
    const sorted = [...drifts].sort((a, b) => a - b);
    const [max, p99] = [sorted[sorted.length - 1] ?? NaN, percentile(sorted, 99)];
    return { value, lag: { samples: drifts.length, ms, max, p99, histMax: histogram.max / 1e6, histP99: histogram.percentile(99) / 1e6 } };
  } finally {
    clearInterval(timer);
    histogram.disable();
  }
}

/** One line for a log: "max 12.3 ms, p99 4.5 ms (…)". */
export const describeLag = (lag: EventLoopLag) =>
  `${lag.samples} samples every 10 ms over ${(lag.ms / 1000).toFixed(1)} s: max ${lag.max.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms; monitorEventLoopDelay: max ${lag.histMax.toFixed(1)} ms, p99 ${lag.histP99.toFixed(1)} ms`;

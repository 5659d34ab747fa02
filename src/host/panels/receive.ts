/**
 * The one way the panels take what their webview sends (messages, and the saved state a restored
 * panel comes back with): checked against its declaration in the panel's messages.ts, and every path in it
 * inside the workspace or confirmed by the user (folderConsent.ts). What is refused never reaches
 * the panel; it is one line in the GCCS log. No vscode import (its types are structural); tested.
 */
import { Check, checkMessage } from './messageCheck';
import type { FolderConsent } from '../workspace/folderConsent';

export interface AcceptOptions<T> {
  /** The panel's name in messages, e.g. "GCCS Latent Space". */
  panel: string;
  /** The paths the host would read because of this value. */
  paths?: (value: T) => (string | undefined)[];
  consent: Pick<FolderConsent, 'allow'>;
}

type Accepted<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `raw` checked, and its paths allowed; `at` names it in the problem ("message", "state"). */
export async function acceptFromWebview<T>(raw: unknown, check: Check<T>, options: AcceptOptions<T>, at = 'message'): Promise<Accepted<T>> {
  const checked = checkMessage(check, raw, at);
  if (!checked.ok) return checked;
  for (const target of options.paths?.(checked.value) ?? []) {
    if (target === undefined) continue;
    if (!(await options.consent.allow(target, `The ${options.panel} panel asks to read ${target}.`))) return { ok: false, problem: `${at}: ${target} is outside the workspace and was not confirmed` };
  }
  return checked;
}

interface Disposable {
  dispose(): unknown;
}
/** What receiving takes: acceptFromWebview's options and where refusals are logged. */
type ReceiveOptions<T> = AcceptOptions<T> & { log: { warn(line: string): void } };
interface MessageSource {
  onDidReceiveMessage(listener: (message: unknown) => unknown): Disposable;
}

/**
 * Hands `handle` the webview's messages that pass acceptFromWebview, in the order they came (a
 * confirmation may be pending); refused ones are logged.
 */
export function receiveFromWebview<T>(webview: MessageSource, check: Check<T>, options: ReceiveOptions<T>, handle: (message: T) => unknown): Disposable {
  const failed = (error: unknown) => options.log.warn(`${options.panel}: ${(error as Error).message}`);
  let queue: Promise<unknown> = Promise.resolve();
  return webview.onDidReceiveMessage((raw) => {
    queue = queue
      .then(() => acceptFromWebview(raw, check, options))
      .then((accepted) => {
        // Not awaited: a save dialog left open must not hold up the next messages.
        if (accepted.ok) Promise.resolve(handle(accepted.value)).catch(failed);
        else options.log.warn(`${options.panel}: ignored a message from the webview: ${accepted.problem}`);
      })
      .catch(failed);
  });
}

/** A restored panel's saved state, checked like a message; undefined (logged) when refused. */
export async function restoredState<T>(state: unknown, check: Check<T>, options: ReceiveOptions<T>): Promise<T | undefined> {
  if (state === undefined || state === null) return undefined;
  const accepted = await acceptFromWebview(state, check, options, 'state');
  if (accepted.ok) return accepted.value;
  options.log.warn(`${options.panel}: ignored the saved state of the restored panel: ${accepted.problem}`);
  return undefined;
}

/**
 * Which paths GCCS may use without asking: those inside a workspace folder, and folders the user
 * chose in a dialog or confirmed before (remembered per workspace). Anything else, a results folder,
 * an outDir or a path a webview names, is used only after the user confirms it (a modal, from
 * src/extension.ts). Symbolic links are resolved first: a link inside the workspace to a folder
 * outside it is outside. No vscode import: the UI and the memory are injected; tested directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ConsentDeps {
  /** The workspace folders. */
  roots(): readonly string[];
  /** Folders confirmed or chosen before (persisted per workspace). */
  remembered(): readonly string[];
  remember(folders: string[]): PromiseLike<void> | void;
  /** Asks the user whether GCCS may use `target` (outside the workspace) for `purpose`. */
  ask(target: string, purpose: string): PromiseLike<boolean>;
}

/** The path with every symbolic link of its existing part resolved (the rest, not yet created, appended). */
export function realTarget(target: string): string {
  let existing = path.resolve(target);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(existing), ...rest.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return path.resolve(target);
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

/** Whether `target` is `folder` or inside it (both already real paths). */
export function isWithin(target: string, folder: string): boolean {
  const relative = path.relative(folder, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

export class FolderConsent {
  constructor(private readonly deps: ConsentDeps) {}

  /** Inside a workspace folder (after resolving links). */
  inWorkspace(target: string): boolean {
    const real = realTarget(target);
    return this.deps.roots().some((root) => isWithin(real, realTarget(root)));
  }

  /** Inside the workspace or a folder the user chose or confirmed: usable without asking. */
  known(target: string): boolean {
    const real = realTarget(target);
    return this.inWorkspace(target) || this.deps.remembered().some((folder) => isWithin(real, folder));
  }

  /** True when `target` may be used for `purpose`: known, or confirmed now (then remembered). */
  async allow(target: string, purpose: string): Promise<boolean> {
    if (this.known(target)) return true;
    if (!(await this.deps.ask(target, purpose))) return false;
    await this.chosen(target);
    return true;
  }

  /** The user picked `target` in a dialog (or confirmed it): remember its real path. */
  async chosen(target: string): Promise<void> {
    if (this.known(target)) return;
    await this.deps.remember([...this.deps.remembered(), realTarget(target)]);
  }
}

/**
 * What every GCCS panel's webview may send, checked before use (src/host/panels/receive.ts): the
 * shared parts of the per-panel message modules (robustness/, latent/, training/messages.ts), which
 * both the host and the webview scripts import. No vscode, no TensorFlow.js.
 */
import { WEBVIEW_LIMITS } from '../../core/limits';
import { Checked, tagged, text } from './messageCheck';

// ---- Checks of what webviews send (shape, allowed values, sizes). Paths are absolute here; the
// host also requires them inside the workspace or confirmed by the user (src/host/workspace/folderConsent.ts).

/** An absolute file path (POSIX, or Windows drive / UNC), no NUL. */
export const absolutePath = text({ maxLength: WEBVIEW_LIMITS.pathChars, pattern: /^(?:\/|[A-Za-z]:[\\/]|\\\\)[^\0]*$/, what: 'an absolute path' });
/** An export's suggested file name (webview/export.ts slug): no separators, no leading dot. */
const exportName = text({ maxLength: WEBVIEW_LIMITS.exportNameChars, pattern: /^[a-z0-9][a-z0-9.-]*$/, what: 'a file name of a-z, 0-9, "." and "-"' });
/** A PNG as a base64 data URL: the PNG signature (iVBORw0KGgo) first. */
const pngDataUrl = text({ maxLength: WEBVIEW_LIMITS.exportChars, pattern: /^data:image\/png;base64,iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/, what: 'a base64 PNG data URL' });

/** Webview → host, from every panel: save an export where the user picks (src/host/panels/exportFile.ts); `name` is the file name without extension. */
export const saveMessages = {
  /** Save a chart as PNG: `dataUrl` from chart.toBase64Image('image/png'). */
  savePng: { name: exportName, dataUrl: pngDataUrl },
  /** Save a table (or a chart's points) as CSV text. */
  saveCsv: { name: exportName, csv: text({ maxLength: WEBVIEW_LIMITS.exportChars }) },
};

/** A save request of any panel. */
export const checkSaveMessage = tagged(saveMessages);
export type SaveMessage = Checked<typeof checkSaveMessage>;

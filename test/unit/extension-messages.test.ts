import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { WEBVIEW_LIMITS } from '../../src/core/limits';
import { Check, checkMessage } from '../../src/host/panels/messageCheck';
import { checkLatentToHost, checkRestoredLatent } from '../../src/host/panels/latent/messages';
import { checkRestoredRobustness, checkRobustnessToHost } from '../../src/host/panels/robustness/messages';
import { checkRestoredTraining, checkTrainingToHost } from '../../src/host/panels/training/messages';
import { FolderConsent, realTarget } from '../../src/host/workspace/folderConsent';
import { receiveFromWebview, restoredState } from '../../src/host/panels/receive';
import { slug } from '../../webview/export';

// A real 1×1 PNG, as chart.toBase64Image('image/png') gives it.
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const request = { count: 500, attack: 'pgd', eps: 0.1 };

/** What the three panels' scripts send (webview/*.ts), each accepted as is. */
const valid: [string, Check<unknown>, unknown][] = [
  ['robustness ready', checkRobustnessToHost, { type: 'ready' }],
  ['robustness savePng', checkRobustnessToHost, { type: 'savePng', name: slug('FGSM, ε = 0.1'), dataUrl: PNG }],
  ['robustness saveCsv', checkRobustnessToHost, { type: 'saveCsv', name: 'clean-accuracy', csv: 'model,clean accuracy\ntiny,0.9\n' }],
  ['robustness examples', checkRobustnessToHost, { type: 'examples', cell: '3f2a9c0d1e4b5a67', count: 12 }],
  ['robustness cancelExamples', checkRobustnessToHost, { type: 'cancelExamples' }],
  ['latent ready', checkLatentToHost, { type: 'ready', request }],
  ['latent ready with its model', checkLatentToHost, { type: 'ready', modelDir: '/work/models/tiny', request }],
  ['latent request', checkLatentToHost, { type: 'request', request: { count: 10_000, attack: 'none', eps: 0 } }],
  ['latent pickModel', checkLatentToHost, { type: 'pickModel' }],
  ['latent drawn', checkLatentToHost, { type: 'drawn', points: 0 }],
  ['latent saveCsv', checkLatentToHost, { type: 'saveCsv', name: 'latent-space-tiny', csv: 'class\n' }],
  ['training ready', checkTrainingToHost, { type: 'ready' }],
  ['training ready (Windows path)', checkTrainingToHost, { type: 'ready', outDir: 'C:\\Users\\me\\models\\tiny' }],
  ['training drawn', checkTrainingToHost, { type: 'drawn', epochs: 4 }],
  ['training savePng', checkTrainingToHost, { type: 'savePng', name: 'training-tiny-accuracy', dataUrl: PNG }],
];

test('every message the panels send passes its check unchanged', () => {
  for (const [what, check, message] of valid) {
    const result = checkMessage(check, message);
    assert.ok(result.ok, `${what}: ${!result.ok && result.problem}`);
    assert.deepEqual(result.value, message, what);
  }
});

/** Malformed messages, each with the field its one-line problem must name. */
const malformed: [string, Check<unknown>, unknown, RegExp][] = [
  ['null', checkLatentToHost, null, /^message: an object expected, got null$/],
  ['a string', checkRobustnessToHost, 'ready', /^message: an object expected, got string$/],
  ['an array', checkTrainingToHost, [{ type: 'ready' }], /^message: an object expected, got an array$/],
  ['no type', checkRobustnessToHost, {}, /^message\.type: one of ready, examples, cancelExamples, savePng, saveCsv expected, got undefined$/],
  ['unknown type', checkLatentToHost, { type: 'runShell', command: 'rm -rf ~' }, /^message\.type: one of .* expected, got "runShell"$/],
  ['type of another panel', checkRobustnessToHost, { type: 'pickModel' }, /^message\.type: .*got "pickModel"$/],
  ['type as a number', checkTrainingToHost, { type: 1 }, /^message\.type: .*got number$/],
  ['an extra field', checkRobustnessToHost, { type: 'ready', extra: 1 }, /^message: unexpected field "extra"$/],
  ['examples of a path instead of a cell id', checkRobustnessToHost, { type: 'examples', cell: '../../etc/passwd', count: 12 }, /^message\.cell: not a sweep cell id \(hexadecimal\)$/],
  ['examples of an over-long cell id', checkRobustnessToHost, { type: 'examples', cell: 'a'.repeat(129), count: 12 }, /^message\.cell: longer than 128 characters \(129\)$/],
  ['examples of no samples', checkRobustnessToHost, { type: 'examples', cell: 'ab12', count: 0 }, /^message\.count: 0 is outside \[1, 48\]$/],
  ['examples of more samples than a gallery shows', checkRobustnessToHost, { type: 'examples', cell: 'ab12', count: 1e9 }, /^message\.count: 1000000000 is outside \[1, 48\]$/],
  ['examples of a fractional count', checkRobustnessToHost, { type: 'examples', cell: 'ab12', count: 2.5 }, /^message\.count: a whole number expected, got 2\.5$/],
  ['examples with the count as text', checkRobustnessToHost, { type: 'examples', cell: 'ab12', count: '12' }, /^message\.count: a whole number expected, got string$/],
  ['examples without a cell', checkRobustnessToHost, { type: 'examples', count: 12 }, /^message: field "cell" is missing$/],
  ['examples with a model path smuggled in', checkRobustnessToHost, { type: 'examples', cell: 'ab12', count: 12, model: '/etc' }, /^message: unexpected field "model"$/],
  ['cancelExamples with a field', checkRobustnessToHost, { type: 'cancelExamples', cell: 'ab12' }, /^message: unexpected field "cell"$/],
  ['an own __proto__ field', checkRobustnessToHost, JSON.parse('{"type":"ready","__proto__":{"polluted":true}}'), /^message: unexpected field "__proto__"$/],
  [
    '__proto__ inside the request',
    checkLatentToHost,
    JSON.parse('{"type":"request","request":{"count":10,"attack":"none","eps":0,"__proto__":{"x":1}}}'),
    /^message\.request: unexpected field "__proto__"$/,
  ],
  ['a constructor field', checkLatentToHost, { type: 'pickModel', constructor: { prototype: {} } }, /^message: unexpected field "constructor"$/],
  ['a symbol key', checkLatentToHost, { type: 'pickModel', [Symbol('s')]: 1 }, /^message: unexpected field "Symbol\(s\)"$/],
  ['fields inherited from a prototype', checkRobustnessToHost, Object.create({ type: 'ready' }), /^message: a plain object expected$/],
  [
    'a class instance',
    checkRobustnessToHost,
    new (class Ready {
      type = 'ready';
    })(),
    /^message: a plain object expected$/,
  ],
  [
    'a getter',
    checkTrainingToHost,
    Object.defineProperty({ type: 'drawn' }, 'epochs', { get: () => 1, enumerable: true }),
    /^message\.epochs: an accessor, not a value$/,
  ],
  ['a missing field', checkLatentToHost, { type: 'request' }, /^message: field "request" is missing$/],
  [
    'count as a string',
    checkLatentToHost,
    { type: 'request', request: { ...request, count: '500' } },
    /^message\.request\.count: a whole number expected, got string$/,
  ],
  ['count 0', checkLatentToHost, { type: 'request', request: { ...request, count: 0 } }, /^message\.request\.count: 0 is outside \[1, 10000\]$/],
  [
    'count above the cap',
    checkLatentToHost,
    { type: 'request', request: { ...request, count: 1e9 } },
    /^message\.request\.count: 1000000000 is outside \[1, 10000\]$/,
  ],
  ['count 1.5', checkLatentToHost, { type: 'request', request: { ...request, count: 1.5 } }, /^message\.request\.count: a whole number expected, got 1\.5$/],
  ['eps NaN', checkLatentToHost, { type: 'request', request: { ...request, eps: NaN } }, /^message\.request\.eps: a finite number expected, got NaN$/],
  [
    'eps Infinity',
    checkLatentToHost,
    { type: 'request', request: { ...request, eps: Infinity } },
    /^message\.request\.eps: a finite number expected, got Infinity$/,
  ],
  ['eps 2', checkLatentToHost, { type: 'request', request: { ...request, eps: 2 } }, /^message\.request\.eps: 2 is outside \[0, 1\]$/],
  [
    'an unknown attack',
    checkLatentToHost,
    { type: 'request', request: { ...request, attack: 'cw' } },
    /^message\.request\.attack: one of none, fgsm, pgd, tgsm expected, got "cw"$/,
  ],
  ['drawn points negative', checkLatentToHost, { type: 'drawn', points: -1 }, /^message\.points: -1 is outside/],
  ['drawn epochs null', checkTrainingToHost, { type: 'drawn', epochs: null }, /^message\.epochs: a whole number expected, got null$/],
  ['a relative model folder', checkLatentToHost, { type: 'ready', modelDir: '../../etc', request }, /^message\.modelDir: not an absolute path$/],
  ['a URL as a folder', checkTrainingToHost, { type: 'ready', outDir: 'file:///etc' }, /^message\.outDir: not an absolute path$/],
  ['a NUL in a path', checkTrainingToHost, { type: 'ready', outDir: '/work/models\0/x' }, /^message\.outDir: not an absolute path$/],
  [
    'an over-long path',
    checkTrainingToHost,
    { type: 'ready', outDir: '/' + 'a'.repeat(WEBVIEW_LIMITS.pathChars) },
    /^message\.outDir: longer than 4096 characters/,
  ],
  ['outDir undefined (present)', checkTrainingToHost, { type: 'ready', outDir: undefined }, /^message\.outDir: a string expected, got undefined$/],
  ['an export name with a folder', checkRobustnessToHost, { type: 'saveCsv', name: '../../.bashrc', csv: 'x' }, /^message\.name: not a file name/],
  ['an export name with a slash', checkRobustnessToHost, { type: 'saveCsv', name: 'a/b', csv: 'x' }, /^message\.name: not a file name/],
  ['a hidden export name', checkRobustnessToHost, { type: 'saveCsv', name: '.hidden', csv: 'x' }, /^message\.name: not a file name/],
  ['an empty export name', checkRobustnessToHost, { type: 'saveCsv', name: '', csv: 'x' }, /^message\.name: not a file name/],
  [
    'a data URL that is not a PNG',
    checkRobustnessToHost,
    { type: 'savePng', name: 'x', dataUrl: 'data:text/html;base64,PHNjcmlwdD4=' },
    /^message\.dataUrl: not a base64 PNG data URL$/,
  ],
  [
    'base64 that is not a PNG',
    checkRobustnessToHost,
    { type: 'savePng', name: 'x', dataUrl: 'data:image/png;base64,TVqQAAMAAAAEAAAA' },
    /^message\.dataUrl: not a base64 PNG data URL$/,
  ],
  ['a javascript: URL', checkRobustnessToHost, { type: 'savePng', name: 'x', dataUrl: 'javascript:alert(1)' }, /^message\.dataUrl: not a base64 PNG data URL$/],
  ['CSV as an array', checkRobustnessToHost, { type: 'saveCsv', name: 'x', csv: ['a', 'b'] }, /^message\.csv: a string expected, got an array$/],
  [
    'CSV above the cap',
    checkRobustnessToHost,
    { type: 'saveCsv', name: 'x', csv: 'x'.repeat(WEBVIEW_LIMITS.exportChars + 1) },
    /^message\.csv: longer than 67108864 characters/,
  ],
];

test('malformed messages are refused with one line naming the field and the problem', () => {
  for (const [what, check, message, problem] of malformed) {
    const result = checkMessage(check, message);
    assert.ok(!result.ok, `${what} is refused`);
    assert.match(result.problem, problem, what);
    assert.ok(!result.problem.includes('\n'), `${what}: one line`);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
});

/** Any JSON-like value, and valid messages with one field mutated, added or removed. */
const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.anything({ withNullPrototype: true, withObjectString: true, withBoxedValues: true, withMap: true, withSet: true }),
);
const mutated = fc
  .tuple(fc.constantFrom(...valid), fc.string({ maxLength: 12 }), anyValue, fc.boolean())
  .map(([[what, check, message], key, value, remove]) => {
    const copy: Record<string, unknown> = { ...(message as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (remove && keys.length) delete copy[keys[key.length % keys.length]];
    else copy[keys.includes(key) || key === '' ? keys[key.length % keys.length] : key] = value;
    return { what, check, message: copy };
  });

test('generated and mutated messages: never a crash; what passes has only declared fields and passes again unchanged', () => {
  const checks = [checkRobustnessToHost, checkLatentToHost, checkTrainingToHost, checkRestoredLatent, checkRestoredRobustness, checkRestoredTraining];
  fc.assert(
    fc.property(
      fc.oneof(
        anyValue.map((message) => ({ check: checks[0], message })),
        mutated,
        fc.tuple(fc.constantFrom(...checks), anyValue).map(([check, message]) => ({ check, message })),
      ),
      ({ check, message }) => {
        const result = checkMessage(check as Check<unknown>, message);
        if (!result.ok) return assert.ok(/^(message|state)\b/.test(result.problem) && !result.problem.includes('\n'), result.problem);
        const again = checkMessage(check as Check<unknown>, JSON.parse(JSON.stringify(result.value)));
        assert.ok(again.ok);
        assert.deepEqual(again.value, result.value);
      },
    ),
    { numRuns: Number(process.env.GCCS_FUZZ_RUNS ?? 2000), seed: 10 },
  );
});

/** A workspace folder, a folder outside it, and a recording consent whose answer the test sets. */
function setup(t: { after: (fn: () => void) => void }) {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-consent-')));
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  const workspace = path.join(base, 'ws');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(workspace, 'models', 'tiny'), { recursive: true });
  fs.mkdirSync(outside);
  let remembered: string[] = [];
  const asked: string[] = [];
  let answer = false;
  const consent = new FolderConsent({
    roots: () => [workspace],
    remembered: () => remembered,
    remember: (folders) => void (remembered = folders),
    ask: async (target) => (asked.push(target), answer),
  });
  return { base, workspace, outside, consent, asked, remembered: () => remembered, answer: (value: boolean) => (answer = value) };
}

test('folders: inside the workspace is used without asking; escapes by "..", links and look-alike prefixes are outside', async (t) => {
  const { base, workspace, outside, consent, asked } = setup(t);
  fs.symlinkSync(outside, path.join(workspace, 'link-out'));
  fs.mkdirSync(`${workspace}-evil`);
  assert.ok(consent.inWorkspace(path.join(workspace, 'models', 'tiny')));
  assert.ok(consent.inWorkspace(path.join(workspace, 'not', 'created', 'yet')), 'a folder still to be created inside');
  assert.ok(!consent.inWorkspace(path.join(workspace, '..', 'outside')));
  assert.ok(!consent.inWorkspace(path.join(workspace, 'link-out', 'results')), 'a link to the outside');
  assert.ok(!consent.inWorkspace(`${workspace}-evil`), 'a sibling whose name starts like the workspace');
  assert.ok(!consent.inWorkspace('/'));
  assert.equal(realTarget(path.join(workspace, 'link-out', 'a', 'b')), path.join(outside, 'a', 'b'));
  assert.ok(await consent.allow(path.join(workspace, 'models'), 'test'));
  assert.deepEqual(asked, [], 'nothing asked inside the workspace');
  assert.ok(!(await consent.allow(path.join(workspace, 'link-out'), 'test')));
  assert.deepEqual(asked, [path.join(workspace, 'link-out')]);
  assert.ok(fs.readdirSync(base).length === 3, 'nothing created');
});

test('folders: a refusal is not remembered, a confirmation is (its real path), and covers what is inside', async (t) => {
  const { outside, consent, asked, remembered, answer } = setup(t);
  assert.equal(await consent.allow(outside, 'test'), false);
  assert.deepEqual(remembered(), []);
  answer(true);
  assert.equal(await consent.allow(outside, 'test'), true);
  assert.deepEqual(remembered(), [outside]);
  answer(false);
  assert.equal(await consent.allow(path.join(outside, 'results'), 'test'), true, 'inside a confirmed folder');
  assert.equal(asked.length, 2, 'not asked again');
  await consent.chosen(path.join(outside, 'results'));
  assert.deepEqual(remembered(), [outside], 'a folder already covered is not added');
});

/** A fake webview: `send` delivers a message as VS Code would, to the one listener. */
function fakeWebview() {
  let listener: ((message: unknown) => unknown) | undefined;
  return {
    onDidReceiveMessage: (fn: (message: unknown) => unknown) => ((listener = fn), { dispose: () => (listener = undefined) }),
    send: (message: unknown) => listener?.(message),
  };
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('a panel receives only checked messages, in order; refused ones are one log line, reach nothing and ask nothing', async (t) => {
  const { workspace, outside, consent, asked, answer } = setup(t);
  const webview = fakeWebview();
  const handled: unknown[] = [];
  const warnings: string[] = [];
  const subscription = receiveFromWebview(
    webview,
    checkLatentToHost,
    { panel: 'GCCS Latent Space', paths: (m) => (m.type === 'ready' ? [m.modelDir] : []), consent, log: { warn: (line) => warnings.push(line) } },
    (m) => void handled.push(m),
  );
  // Every malformed message of the list except the robustness panel's `pickModel`, which is the latent panel's own.
  const bad = malformed.map(([, , message]) => message).filter((message) => !checkMessage(checkLatentToHost, message).ok);
  assert.equal(bad.length, malformed.length - 1);
  for (const message of bad) webview.send(message);
  await settle();
  assert.deepEqual(handled, []);
  assert.deepEqual(asked, [], 'a malformed message asks nothing');
  assert.equal(warnings.length, bad.length);
  for (const line of warnings) assert.match(line, /^GCCS Latent Space: ignored a message from the webview: message\b[^\n]*$/);

  const inside = { type: 'ready', modelDir: path.join(workspace, 'models', 'tiny'), request };
  const away = { type: 'ready', modelDir: path.join(outside, 'model'), request };
  webview.send(inside);
  webview.send(away);
  webview.send({ type: 'drawn', points: 7 });
  await settle();
  assert.deepEqual(handled, [inside, { type: 'drawn', points: 7 }], 'the folder outside, refused, never reached the panel; the next message still did');
  assert.deepEqual(asked, [path.join(outside, 'model')]);
  assert.match(warnings[warnings.length - 1], /: message: .*outside[/\\]model is outside the workspace and was not confirmed$/);
  answer(true);
  webview.send(away);
  await settle();
  assert.deepEqual(handled[handled.length - 1], away, 'confirmed: handled');
  subscription.dispose();
  webview.send({ type: 'pickModel' });
  await settle();
  assert.equal(handled.length, 3, 'nothing after dispose');
});

test("a restored panel's saved state: checked, its paths allowed; a bad one is dropped with one log line", async (t) => {
  const { workspace, outside, consent, asked } = setup(t);
  const warnings: string[] = [];
  const options = {
    panel: 'GCCS Robustness',
    paths: (s: { sources?: string[] }) => [...new Set((s.sources ?? []).map((f) => path.dirname(f)))],
    consent,
    log: { warn: (line: string) => warnings.push(line) },
  };
  const sources = [path.join(workspace, '.gccs', 'results', 'a.jsonl'), path.join(workspace, '.gccs', 'results', 'b.jsonl')];
  assert.deepEqual(await restoredState({ sources, data: { anything: 'the webview keeps' } }, checkRestoredRobustness, options), { sources });
  assert.equal(await restoredState(undefined, checkRestoredRobustness, options), undefined);
  assert.equal(await restoredState({ sources: 'a.jsonl' }, checkRestoredRobustness, options), undefined);
  assert.equal(await restoredState({ sources: [path.join(outside, 'x.jsonl'), path.join(outside, 'y.jsonl')] }, checkRestoredRobustness, options), undefined);
  assert.deepEqual(asked, [outside], 'one question per folder');
  assert.deepEqual(
    warnings.map((w) => w.replace(/: state.*/, '')),
    ['GCCS Robustness: ignored the saved state of the restored panel', 'GCCS Robustness: ignored the saved state of the restored panel'],
  );
  assert.match(warnings[0], /state\.sources: an array expected, got string$/);
  const latent = await restoredState(
    JSON.parse(
      `{"modelDir": ${JSON.stringify(path.join(workspace, 'models', 'tiny'))}, "request": {"count": 10, "attack": "none", "eps": 0}, "view": {}, "__proto__": {"x": 1}}`,
    ),
    checkRestoredLatent,
    { ...options, paths: (s) => [s.modelDir] },
  );
  assert.deepEqual(
    latent,
    { modelDir: path.join(workspace, 'models', 'tiny'), request: { count: 10, attack: 'none', eps: 0 } },
    'only the fields the host reads',
  );
});

test('export names from any title are accepted file names', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (title) => {
      const result = checkMessage(checkRobustnessToHost, { type: 'saveCsv', name: slug(title), csv: '' });
      assert.ok(result.ok, `${JSON.stringify(title)} → ${slug(title)}: ${!result.ok && result.problem}`);
    }),
    { numRuns: 2000, seed: 3 },
  );
  assert.equal(slug('...hidden'), 'hidden');
});

/**
 * The project's import graph, read with the TypeScript compiler (not regexes), and the three
 * rules test/unit/imports.test.ts checks on it: src/core imports nothing above it, the extension
 * host and the webviews never reach TensorFlow.js, and no import cycle exists.
 */
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import ts from 'typescript';

/** One import of a source file: of a project source file (`target`), a JSON data file (`data`), or a package or builtin (`pkg`). */
export interface ImportEdge {
  from: string;
  specifier: string;
  /** Erased at build (`import type`, `export type … from`, `typeof import(…)`): no run-time dependency. */
  typeOnly: boolean;
  target?: string;
  data?: string;
  pkg?: string;
  builtin?: boolean;
}

export type ImportGraph = Map<string, ImportEdge[]>;

/** The .ts files under each folder (declaration files left out), absolute and sorted. */
export function sourceFilesUnder(...dirs: string[]): string[] {
  const files = dirs.flatMap((dir) =>
    fs
      .readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => path.join(dir, f)),
  );
  return files.sort();
}

/** The compiler options of a tsconfig.json, as the compiler reads them. */
export function readCompilerOptions(tsconfigPath: string): ts.CompilerOptions {
  const config = ts.readConfigFile(tsconfigPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(tsconfigPath)).options;
}

interface RawImport {
  specifier: string;
  typeOnly: boolean;
}

/** Whether every binding of an import clause is marked `type` (`import { type A, type B } from …`). */
function allBindingsTypeOnly(clause: ts.ImportClause): boolean {
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return !clause.name && !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** Every module a file names: import and export declarations, `import x = require()`, `import()`, `require()`, `typeof import()`. */
export function importsOf(fileName: string, text: string): RawImport[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: RawImport[] = [];
  const literal = (node: ts.Node | undefined) => (node && ts.isStringLiteralLike(node) ? node.text : undefined);
  const add = (specifier: string | undefined, typeOnly: boolean) => {
    if (specifier !== undefined) found.push({ specifier, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(literal(node.moduleSpecifier), !!node.importClause && allBindingsTypeOnly(node.importClause));
    } else if (ts.isExportDeclaration(node)) {
      const names = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      const typeOnly = node.isTypeOnly || (!!names && names.length > 0 && names.every((e) => e.isTypeOnly));
      add(literal(node.moduleSpecifier), typeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(literal(node.moduleReference.expression), node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      add(ts.isLiteralTypeNode(argument) ? literal(argument.literal) : undefined, true);
    } else if (ts.isCallExpression(node)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isDynamicImport || isRequire) && node.arguments.length === 1) add(literal(node.arguments[0]), false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const builtins = new Set(builtinModules);

/** The package a bare specifier names: `@scope/name` or `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The import graph of `files` (absolute paths), imports resolved as the compiler resolves them.
 * A bare import that resolves to none of `files` is a package (or builtin); a relative one that
 * resolves to neither a file of `files` nor a JSON file throws, naming it.
 */
export function buildImportGraph(files: string[], options: ts.CompilerOptions): ImportGraph {
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const from of files) {
    const edges = importsOf(from, fs.readFileSync(from, 'utf8')).map(({ specifier, typeOnly }): ImportEdge => {
      if (specifier.startsWith('node:') || builtins.has(specifier)) return { from, specifier, typeOnly, pkg: specifier, builtin: true };
      const resolved = ts.resolveModuleName(specifier, from, options, ts.sys).resolvedModule;
      const target = resolved && path.resolve(resolved.resolvedFileName);
      if (target && known.has(target)) return { from, specifier, typeOnly, target };
      if (target && resolved.extension === ts.Extension.Json && !resolved.isExternalLibraryImport) return { from, specifier, typeOnly, data: target };
      if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
        throw new Error(`${from}: '${specifier}' resolves to ${target ?? 'nothing'}, not to a source file of the project`);
      }
      return { from, specifier, typeOnly, pkg: packageName(specifier) };
    });
    graph.set(from, edges);
  }
  return graph;
}

const inside = (dir: string, file: string) => {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
};

/**
 * Imports of files under `coreDir` that reach a project source file outside it, or a package in
 * `forbiddenPackages`. JSON data files (schemas, package.json) hold no code and import nothing, so
 * they cannot run a dependency upward; they are not counted.
 */
export function upwardImports(graph: ImportGraph, coreDir: string, forbiddenPackages: string[] = []): ImportEdge[] {
  const leaves = (edge: ImportEdge) =>
    (edge.target !== undefined && !inside(coreDir, edge.target)) || (edge.pkg !== undefined && forbiddenPackages.includes(edge.pkg));
  return [...graph.values()].flat().filter((edge) => inside(coreDir, edge.from) && leaves(edge));
}

/**
 * For each root, the shortest chain of run-time imports (type-only ones are erased at build) that
 * leads to a forbidden project file or package; roots that reach none are left out.
 */
export function forbiddenReach(graph: ImportGraph, roots: string[], isForbidden: (edge: ImportEdge) => boolean): string[][] {
  const chains: string[][] = [];
  for (const root of roots) {
    const cameFrom = new Map<string, string | undefined>([[root, undefined]]);
    const queue = [root];
    let hit: { at: string; edge: ImportEdge } | undefined;
    while (queue.length > 0 && !hit) {
      const file = queue.shift()!;
      for (const edge of graph.get(file) ?? []) {
        if (edge.typeOnly) continue;
        if (isForbidden(edge)) {
          hit = { at: file, edge };
          break;
        }
        if (edge.target && !cameFrom.has(edge.target)) {
          cameFrom.set(edge.target, file);
          queue.push(edge.target);
        }
      }
    }
    if (!hit) continue;
    const chain = [hit.edge.target ?? hit.edge.pkg!];
    for (let file: string | undefined = hit.at; file !== undefined; file = cameFrom.get(file)) chain.unshift(file);
    chains.push(chain);
  }
  return chains;
}

/**
 * The import cycles: each strongly connected component of more than one file (or a file that
 * imports itself), given as one cycle through it, starting at its first file in sorted order.
 * `includeTypeOnly` decides whether erased imports count as edges.
 */
export function importCycles(graph: ImportGraph, includeTypeOnly: boolean): string[][] {
  const successors = (file: string) => [...new Set((graph.get(file) ?? []).filter((e) => e.target && (includeTypeOnly || !e.typeOnly)).map((e) => e.target!))];
  // Tarjan's strongly connected components, iterative (deep graphs must not overflow the stack).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { file: string; next: string[] }[] = [];
    const enter = (file: string) => {
      index.set(file, counter);
      low.set(file, counter++);
      stack.push(file);
      onStack.add(file);
      work.push({ file, next: successors(file) });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const next = frame.next.shift();
      if (next !== undefined) {
        if (!index.has(next)) enter(next);
        else if (onStack.has(next)) low.set(frame.file, Math.min(low.get(frame.file)!, index.get(next)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].file;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.file)!));
      }
      if (low.get(frame.file) === index.get(frame.file)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.file);
        if (component.length > 1 || successors(frame.file).includes(frame.file)) components.push(component);
      }
    }
  }
  return components.map((component) => cycleThrough(component.sort(), successors)).sort((a, b) => a[0].localeCompare(b[0]));
}

/** One cycle inside a strongly connected component, from its first file back to it (breadth first: the shortest). */
function cycleThrough(component: string[], successors: (file: string) => string[]): string[] {
  const members = new Set(component);
  const start = component[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const next of successors(file)) {
      if (!members.has(next)) continue;
      if (next === start) {
        const cycle = [start];
        for (let at = file; at !== start; at = cameFrom.get(at)!) cycle.splice(1, 0, at);
        return [...cycle, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

import { UserError } from '../core/errors';

export type FlagType = 'string' | 'number' | 'integer' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  description: string;
  /** Shown in --help; the command applies its own defaults. */
  default?: string;
  /** Allowed values, for string flags. */
  choices?: readonly string[];
}

export type FlagSpecs = Record<string, FlagSpec>;
export type ParsedFlags = Record<string, string | number | boolean | undefined>;

/** Parses `--name value`, `--name=value` and boolean `--name`; anything unknown is an error naming the flag. */
export function parseFlags(command: string, argv: string[], specs: FlagSpecs): ParsedFlags {
  const flags: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UserError(`unexpected argument "${arg}" for "gccs ${command}" (see gccs ${command} --help)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = specs[name];
    if (!spec) throw new UserError(`unknown flag --${name} for "gccs ${command}" (see gccs ${command} --help)`);
    if (spec.type === 'boolean') {
      flags[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UserError(`flag --${name} needs a value`);
    flags[name] = convert(name, raw, spec);
  }
  return flags;
}

function convert(name: string, raw: string, spec: FlagSpec): string | number {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) throw new UserError(`flag --${name} must be one of ${spec.choices.join(', ')} (got "${raw}")`);
    return raw;
  }
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UserError(`flag --${name} needs a number (got "${raw}")`);
  if (spec.type === 'integer' && !Number.isInteger(value)) throw new UserError(`flag --${name} needs an integer (got "${raw}")`);
  return value;
}

export function helpText(command: string, summary: string, specs: FlagSpecs): string {
  const width = Math.max(...Object.keys(specs).map((n) => n.length + (specs[n].type === 'boolean' ? 2 : 10)));
  const lines = Object.entries(specs).map(([name, spec]) => {
    const left = spec.type === 'boolean' ? `--${name}` : `--${name} <${spec.choices ? spec.choices.join('|') : spec.type}>`;
    const def = spec.default !== undefined ? ` (default ${spec.default})` : '';
    return `  ${left.padEnd(width + 4)} ${spec.description}${def}`;
  });
  return `Usage: gccs ${command} [flags]\n\n${summary}\n\nFlags:\n${lines.join('\n')}\n`;
}

import { initBackend, BackendName } from '../core/backend';
import { setWasmThreads, wasmThreadsShare } from '../core/backend/threadCount';
import { UserError } from '../core/errors';
import { ENGINE_VERSION } from '../core/version';
import { FlagSpecs, ParsedFlags, helpText, parseFlags } from './args';
import {
  COMMON_FLAGS,
  CommandContext,
  DOWNLOAD_FLAGS,
  EVAL_FLAGS,
  LATENT_FLAGS,
  TRAIN_FLAGS,
  downloadCommand,
  evalCommand,
  latentCommand,
  trainCommand,
} from './commands';
import { ATTACK_FLAGS, SWEEP_FLAGS, attackCommand, sweepCommand } from './sweepCommands';
import { EVALUATE_FLAGS, evaluateCommand } from './evaluateCommand';
import { REPRODUCE_FLAGS, reproduceCommand } from './reproduceCommand';
import { EXPORT_FLAGS, exportCommand } from './exportCommand';
import {
  BACKEND_INSTALL_FLAGS,
  BACKEND_STATUS_FLAGS,
  BACKEND_VERIFY_FLAGS,
  backendInstallCommand,
  backendStatusCommand,
  backendVerifyCommand,
} from './backendCommands';

interface Command {
  summary: string;
  flags: FlagSpecs;
  run: (context: CommandContext) => Promise<unknown>;
  /** Commands that compute pick a backend and print it first. */
  computes: boolean;
}

const COMMANDS: Record<string, Command> = {
  train: {
    summary: 'Train a classifier with the GCCS loss (or cross-entropy), checkpointing every epoch, and write the model.',
    flags: TRAIN_FLAGS,
    run: trainCommand,
    computes: true,
  },
  eval: {
    summary: 'Evaluate a model: accuracy, macro F-score, confusion matrix, r_AB and latent statistics per class.',
    flags: EVAL_FLAGS,
    run: evalCommand,
    computes: true,
  },
  latent: { summary: 'Write the latent vectors z of N samples as JSON or CSV.', flags: LATENT_FLAGS, run: latentCommand, computes: true },
  // The sweep commands compute in worker processes, which pick the backend themselves.
  attack: {
    summary: 'Attack a model over an ε grid and print accuracy vs ε (on background workers).',
    flags: ATTACK_FLAGS,
    run: attackCommand,
    computes: false,
  },
  evaluate: {
    summary: 'Evaluate robustness with a preset (paper, autoattack, quick): per-attack and per-sample worst-case accuracy, diagnostics, verdict.',
    flags: EVALUATE_FLAGS,
    run: evaluateCommand,
    computes: true,
  },
  sweep: {
    summary: 'Run a robustness sweep (models × attacks × grids) from a config file; resumable; writes an HTML report.',
    flags: SWEEP_FLAGS,
    run: sweepCommand,
    computes: false,
  },
  reproduce: {
    summary:
      "Reproduce the paper's comparison: train (or reuse) CE, GCCS, JR, IGR, CLR, GCCS fine-tuning and FGSM adversarial training, evaluate each, write the tables; resumable.",
    flags: REPRODUCE_FLAGS,
    run: reproduceCommand,
    computes: true,
  },
  export: {
    summary: 'Write a model trained here as ONNX (NCHW pixels in [0, 1] in, logits out), for PyTorch and ONNX runtimes.',
    flags: EXPORT_FLAGS,
    run: exportCommand,
    computes: true,
  },
  download: {
    summary: 'Download MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 into the cache, verifying SHA-256.',
    flags: DOWNLOAD_FLAGS,
    run: downloadCommand,
    computes: false,
  },
  // Two-word commands: `gccs backend install` is looked up as "backend install".
  'backend install': {
    summary: 'Install native TensorFlow (--gpu: CUDA) into its own folder, check that it loads, and prefer it.',
    flags: BACKEND_INSTALL_FLAGS,
    run: backendInstallCommand,
    computes: false,
  },
  'backend status': {
    summary: 'Show the native TensorFlow install and the backend --backend auto picks.',
    flags: BACKEND_STATUS_FLAGS,
    run: backendStatusCommand,
    computes: false,
  },
  'backend verify': {
    summary: 'Load the installed native TensorFlow and check that it computes.',
    flags: BACKEND_VERIFY_FLAGS,
    run: backendVerifyCommand,
    computes: false,
  },
};

const USAGE = `gccs ${ENGINE_VERSION} — GCCS Robustness Lab engine

Usage: gccs <command> [flags]    (gccs <command> --help for its flags)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(15)} ${c.summary}`)
  .join('\n')}
`;

/** The command an argument list names (`backend install` is two words), or what to print instead. */
function commandOf(argv: string[]): { name: string; command: Command; rest: string[] } | { print: string; code: number } {
  const [name, ...rest] = argv[0] === 'backend' && argv[1] && !argv[1].startsWith('-') ? [`backend ${argv[1]}`, ...argv.slice(2)] : argv;
  if (!name || name === '--help' || name === 'help') return { print: USAGE, code: name ? 0 : 2 };
  if (name === '--version') return { print: `${ENGINE_VERSION}\n`, code: 0 };
  const command = COMMANDS[name];
  if (!command) throw new UserError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  return { name, command, rest };
}

/** Picks the backend of a computing command and says which, in one short line (what it is made of with --verbose). */
async function startBackend(name: string, flags: ParsedFlags, log: (line: string) => void): Promise<string> {
  // `train --workers N`: this process computes beside N − 1 replicas, so it takes its share of the cores too.
  const replicas = name === 'train' && !process.env.GCCS_WASM_THREADS ? ((flags.workers as number | undefined) ?? 1) : 1;
  const threads = flags.threads ?? (replicas > 1 ? wasmThreadsShare(replicas) : undefined);
  if (threads !== undefined) {
    setWasmThreads(threads as number);
    // Sweep workers and data-parallel replicas read it.
    process.env.GCCS_WASM_THREADS = String(threads);
  }
  const info = await initBackend((flags.backend as BackendName | undefined) ?? 'auto');
  log(`backend: ${info.name}${flags.verbose ? ` (${info.detail})` : ''}`);
  if (info.warning) log(`warning: ${info.warning}`);
  return info.name;
}

/** One line for the user; the stack trace only with --verbose. Exit code 2 for bad input, 1 for an internal error. */
function reportError(error: unknown, verbose: boolean): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gccs: error: ${message.split('\n')[0]}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
  else if (!(error instanceof UserError)) process.stderr.write('(an internal error: run again with --verbose for the stack trace)\n');
  return error instanceof UserError ? 2 : 1;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const found = commandOf(argv);
    if ('print' in found) {
      process.stdout.write(found.print);
      return found.code;
    }
    const { name, command, rest } = found;
    const specs = { ...command.flags, ...COMMON_FLAGS };
    const flags = parseFlags(name, rest, specs);
    if (flags.help) {
      process.stdout.write(helpText(name, command.summary, specs));
      return 0;
    }
    const log = (line: string) => process.stderr.write(line + '\n');
    const backend = command.computes ? await startBackend(name, flags, log) : undefined;
    const result = await command.run({ flags, backend: backend ?? 'none', log: flags.json ? () => undefined : log });
    if (flags.json) process.stdout.write(JSON.stringify({ backend, ...(result as object) }) + '\n');
    return 0;
  } catch (error) {
    return reportError(error, argv.includes('--verbose'));
  }
}

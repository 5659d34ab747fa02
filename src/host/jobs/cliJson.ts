/**
 * Runs one computing CLI command (`dist/cli.js <command> … --json`) in a child process and gives
 * its one JSON object: the extension host never loads TensorFlow.js itself. Aborting the signal
 * kills the child. A `gccs: error: …` line (exit code 2) becomes a JobUserError with that line.
 * No vscode import: tested directly.
 */
import { CliProcessOptions, forkCli } from './cliProcess';
import { JobCancelled, JobUserError } from './errors';

export interface CliJsonOptions extends Omit<CliProcessOptions, 'stdout'> {
  cliFile: string;
}

export function runCliJson<T>(args: string[], options: CliJsonOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const { child, cancelled } = forkCli(options.cliFile, [...args, '--json'], { ...options, stdout: true });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on('error', (error) => {
      stderr += `\ngccs: error: the GCCS CLI could not run (${options.cliFile}): ${error.message}`;
    });
    child.on('exit', (code, signalName) => {
      if (cancelled()) return reject(new JobCancelled(`gccs ${args[0]}`));
      const said = stderr.split('\n').find((line) => line.startsWith('gccs: error: '))?.slice('gccs: error: '.length);
      if (code === 0) {
        try {
          return resolve(JSON.parse(stdout) as T);
        } catch {
          return reject(new Error(`gccs ${args[0]} printed no JSON object`));
        }
      }
      if (code === 2 && said) return reject(new JobUserError(said));
      const how = code !== null ? `exit code ${code}` : `signal ${signalName}`;
      reject(new Error(`gccs ${args[0]} failed (${how})${said ? `: ${said}` : ''}`));
    });
  });
}

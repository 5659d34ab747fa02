/**
 * An error caused by the user's input (a file, a flag, a parameter). The CLI prints its
 * message as one line, without a stack trace unless `--verbose`.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

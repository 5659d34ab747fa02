/** How a background job ends when it does not succeed: cancelled, or refused for bad input. */

/** The job was cancelled (a training's last epoch checkpoint, a sweep's finished cells stay usable). */
export class JobCancelled extends Error {
  constructor(what: string) {
    super(`${what} cancelled`);
    this.name = 'JobCancelled';
  }
}

/** A problem with the user's input reported by the engine (a UserError there). */
export class JobUserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobUserError';
  }
}

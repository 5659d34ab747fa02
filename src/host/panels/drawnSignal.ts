/**
 * Lets a panel command resolve once its webview says it has drawn (so `executeCommand` callers,
 * such as other extensions and the integration tests, know the panel shows the data), or with
 * undefined after a time limit. No vscode import.
 */
export class DrawnSignal<T> {
  private waiters: ((value: T | undefined) => void)[] = [];

  /** The next drawing's value, or undefined after `ms`. */
  next(ms: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), ms);
      const settle = (value: T | undefined) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== settle);
        resolve(value);
      };
      this.waiters.push(settle);
    });
  }

  drawn(value: T): void {
    [...this.waiters].forEach((settle) => settle(value));
  }

  /** Stops waiting (a failed computation, a closed panel). */
  cancel(): void {
    [...this.waiters].forEach((settle) => settle(undefined));
  }
}

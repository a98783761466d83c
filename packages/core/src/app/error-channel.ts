/** Where a reported error came from, and what it concerned. No secrets, no bodies. */
export interface ErrorContext {
  readonly source: 'startup' | 'lifecycle' | 'stop' | 'uncaughtException' | 'unhandledRejection' | 'http' | 'plugin';
  readonly level?: 'fatal' | 'error' | 'warning';
  /** Component id (plugin prefix or service class name). */
  readonly component?: string;
  readonly pluginType?: string;
  readonly phase?: string;
  readonly attempt?: number;
  /** Anything else worth a tag: `{ queue, messageId, method, route, status }`. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

export type ErrorListener = (error: unknown, context: ErrorContext) => void;

/** A rejection a driver is known to leave unhandled on a promise it never hands out. */
interface ToleratedRejection {
  readonly matches: (reason: unknown) => boolean;
  readonly why: string;
}

/**
 * The app's error channel: components report failures they handled, core reports the ones
 * it sees (startup, deadlines, onStop, crashes, 5xx), and listeners (error trackers) get
 * each report. A throwing listener is ignored: reporting must never fail the reporter.
 */
export class ErrorChannel {
  readonly #listeners = new Set<ErrorListener>();
  readonly #tolerated: ToleratedRejection[] = [];

  report(error: unknown, context: ErrorContext): void {
    for (const listener of this.#listeners) {
      try {
        listener(error, context);
      } catch {
        // an error tracker's bug is not the app's failure
      }
    }
  }

  tolerate(matches: (reason: unknown) => boolean, why: string): void {
    this.#tolerated.push({ matches, why });
  }

  /** Why an unhandled rejection is a known driver defect rather than a crash; undefined when it is a crash. */
  toleratedWhy(reason: unknown): string | undefined {
    for (const { matches, why } of this.#tolerated) {
      try {
        if (matches(reason)) return why;
      } catch {
        // a throwing matcher recognises nothing
      }
    }
    return undefined;
  }

  on(listener: ErrorListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

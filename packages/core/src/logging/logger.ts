import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import { CENSOR, redactPaths, serializeError } from './redaction.js';
import { requestLogFields } from './request-scope.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Root loggers by destination, then by the extra redact paths as given. pino compiles the
// redact paths for each logger it creates (about a millisecond for the defaults); a child
// shares its parent's, so each app's logger is a child of the root for its destination and paths.
const rootsByDestination = new WeakMap<DestinationStream, Map<string, Logger>>();
let stdout: DestinationStream | undefined;

/**
 * JSON logs to stdout. Paths that commonly hold secrets, request bodies and personal
 * fields are redacted (plus `extraRedactPaths`, comma-separated), and errors lose the
 * query parameters drivers copy into them. plinth itself never logs setting values marked
 * sensitive. Lines logged while serving a request carry the fields request handlers added.
 */
export function createLogger(appName: string, level: LevelWithSilent, destination?: DestinationStream, extraRedactPaths = ''): Logger {
  // Synchronous by default: the process exits right after its last log line, and an
  // async buffer would lose exactly the lines that explain why it exited.
  const target = destination ?? (stdout ??= pino.destination({ dest: 1, sync: true }));
  let roots = rootsByDestination.get(target);
  if (!roots) rootsByDestination.set(target, (roots = new Map()));
  let root = roots.get(extraRedactPaths);
  if (!root) {
    const paths = redactPaths(extraRedactPaths);
    const options = {
      level: 'trace',
      // No pid or hostname: the app's name is the only binding, added by its child below.
      base: null,
      redact: { paths, censor: CENSOR },
      serializers: { err: serializeError, error: serializeError },
      // Inside an HTTP request, every line carries what request handlers added (`requestId`).
      mixin: requestLogFields,
    };
    root = pino(options, target);
    writeScalarsWithoutRedactor(root);
    roots.set(extraRedactPaths, root);
  }
  return root.child({ app: appName }, { level });
}

type Stringifier = (value: unknown) => string;
const SCALAR_PROBES: readonly unknown[] = ['probe', 1.5, true, null];

/**
 * pino passes every top-level value of a line through the redactor of its key's paths, or
 * of the paths that start with `*` (`*.password`, `*.url`…), which walks its paths again on
 * each call: about 8 µs per field, most of a line's cost. Those paths reach into an object,
 * so a string, number, boolean or null comes out as its JSON either way: such a value is
 * written directly. A redactor that censors a scalar (a top-level path such as `password`)
 * is recognised by probing it and left as it is.
 */
function writeScalarsWithoutRedactor(root: Logger): void {
  const stringifiers = (root as unknown as Record<symbol, Record<string | symbol, unknown>>)[pino.symbols.stringifiersSym];
  if (!stringifiers) return;
  for (const key of Reflect.ownKeys(stringifiers)) {
    const redactor = stringifiers[key];
    if (key === pino.symbols.redactFmtSym || typeof redactor !== 'function' || !passesScalarsThrough(redactor as Stringifier)) continue;
    // pino passes a scalar alone and anything else with its safe stringify: no rest array per field.
    stringifiers[key] = (value: unknown, stringifySafe?: unknown): string =>
      value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? JSON.stringify(value)
        : (redactor as (value: unknown, stringifySafe: unknown) => string)(value, stringifySafe);
  }
}

function passesScalarsThrough(redactor: Stringifier): boolean {
  try {
    return SCALAR_PROBES.every((probe) => redactor(probe) === JSON.stringify(probe));
  } catch {
    return false;
  }
}

/**
 * Strict value formats. Loose coercion would read `"54x"` as 54 and `"yes"` as true, so
 * plinth parses every env string itself and rejects anything ambiguous.
 */
export interface SettingFormat<T> {
  /** Shown in `--help` and in error messages: "an integer from 1 to 65535". */
  readonly expected: string;
  /** Turns an env string or a code default into a value; throws with a reason when it can't. */
  parse(raw: unknown): T;
}

class FormatError extends Error {}

function fail(expected: string): never {
  throw new FormatError(`expected ${expected}`);
}

function integer(min: number, max: number, expected: string): SettingFormat<number> {
  return {
    expected,
    parse(raw) {
      const value =
        typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) fail(expected);
      return value;
    },
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const formats = {
  string: { expected: 'a string', parse: (raw) => (typeof raw === 'string' ? raw : fail('a string')) } as SettingFormat<string>,
  nonEmptyString: {
    expected: 'a non-empty string',
    parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? raw : fail('a non-empty string')),
  } as SettingFormat<string>,
  int: (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): SettingFormat<number> =>
    integer(min, max, `an integer from ${min} to ${max}`),
  nat: integer(0, Number.MAX_SAFE_INTEGER, 'a whole number (0 or more)'),
  positiveInt: integer(1, Number.MAX_SAFE_INTEGER, 'a whole number greater than 0'),
  port: integer(1, 65535, 'a port number from 1 to 65535'),
  /** Port 0 allowed: "pick any free port", useful in tests. */
  portOrZero: integer(0, 65535, 'a port number from 0 to 65535'),
  boolean: {
    expected: 'true or false',
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return fail('true or false');
    },
  } as SettingFormat<boolean>,
  /** Milliseconds: `1500`, or with a unit: `1500ms`, `30s`, `5m`. */
  duration: {
    expected: 'a duration in ms (e.g. 1500) or with a unit (1500ms, 30s, 5m)',
    parse(raw) {
      if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
      const match = typeof raw === 'string' ? /^(\d+)(ms|s|m|h)?$/.exec(raw.trim()) : null;
      if (!match) return fail('a duration in ms (e.g. 1500) or with a unit (1500ms, 30s, 5m)');
      return Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1);
    },
  } as SettingFormat<number>,
  url: (protocols?: readonly string[]): SettingFormat<string> => {
    const expected = protocols ? `a URL with a host (${protocols.map((p) => `${p}//`).join(', ')})` : 'a URL with a host';
    return {
      expected,
      parse(raw) {
        if (typeof raw !== 'string') return fail(expected);
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          return fail(expected);
        }
        if (protocols && !protocols.includes(url.protocol)) fail(expected);
        // `amqp://` parses, and a client would quietly connect to localhost.
        if (url.hostname === '' && url.protocol !== 'file:') fail(expected);
        return raw;
      },
    };
  },
  oneOf: <const T extends string>(values: readonly T[]): SettingFormat<T> => {
    const expected = `one of ${values.join(', ')}`;
    return {
      expected,
      parse: (raw) => (typeof raw === 'string' && (values as readonly string[]).includes(raw) ? (raw as T) : fail(expected)),
    };
  },
} as const;

export function isFormatError(error: unknown): error is Error {
  return error instanceof FormatError;
}

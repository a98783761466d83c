import { REDACTED } from '../config/describe-config.js';

/** Builds a function that hides the given secrets and any password inside a URL. */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const values = secrets.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]+@/gi, `$1${REDACTED}@`);
    for (const value of values) out = out.split(value).join(REDACTED);
    return out;
  };
}

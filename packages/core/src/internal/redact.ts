import { REDACTED } from '../config/describe-config.js';

/** The password inside a secret URL is a secret on its own: it turns up without its URL too. */
function urlPasswords(secrets: readonly string[]): string[] {
  return secrets.flatMap((secret) => {
    if (!secret.includes('://')) return [];
    try {
      const { password } = new URL(secret);
      return password ? [password, decodeURIComponent(password)] : [];
    } catch {
      return [];
    }
  });
}

/** Builds a function that hides the given secrets, the passwords of secret URLs, and any password inside a URL. */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const values = [...new Set([...secrets, ...urlPasswords(secrets)])].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]+@/gi, `$1${REDACTED}@`);
    for (const value of values) out = out.split(value).join(REDACTED);
    return out;
  };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { setting } from '../config/setting.js';
import { definePlugin } from '../plugin/define-plugin.js';
import { PLUGIN_API_VERSION } from '../plugin/plugin-api.js';

const apiKeySettings = {
  keys: setting.nonEmptyString({ doc: 'The accepted API keys, comma-separated (rotate by listing the old and the new key)', required: true, sensitive: true }),
  header: setting.nonEmptyString({ doc: 'Header that carries the key; `Authorization: Bearer <key>` is accepted too', default: 'x-api-key' }),
  priority: setting.int({ doc: 'Order among request handlers (lower first)', default: 0 }),
};

/** What the api-keys plugin exposes: how many keys it accepts. */
export interface ApiKeys {
  readonly keys: number;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Lets a request through only with one of the configured keys, in the key header or as a
 * bearer token; any other gets 401 with a JSON body. Keys are compared as SHA-256 digests
 * with `timingSafeEqual`, against every key each time, so neither a key's content, its
 * length nor its position leaks through timing. The probes and `/metrics` are never checked.
 */
export const apiKeys = definePlugin({
  type: 'api-keys',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: false,
  settings: apiKeySettings,
  validateSettings: (settings) =>
    settings.keys !== undefined && settings.keys.split(',').some((k) => k.trim() === '')
      ? [{ setting: 'keys', message: 'has an empty key: separate keys with single commas' }]
      : [],
  create: (ctx): ApiKeys => {
    const { header, priority } = ctx.settings;
    const expected = ctx.settings.keys.split(',').map((key) => digest(key.trim()));
    ctx.app.addRequestHandler({
      name: 'api-keys',
      priority,
      onRequest(request) {
        const bearer = /^Bearer\s+(.+)$/i.exec(request.header('authorization') ?? '')?.[1];
        const given = request.header(header) ?? bearer?.trim();
        if (given !== undefined) {
          const candidate = digest(given);
          let match = false;
          for (const key of expected) match = timingSafeEqual(candidate, key) || match;
          if (match) return undefined;
        }
        request.logger.info({ handler: 'api-keys', reason: given === undefined ? 'no key' : 'unknown key' }, 'request refused: no valid API key');
        return request.stop(401, { error: 'unauthorized', message: `a valid API key is required in the ${header} header` }, { 'www-authenticate': 'ApiKey' });
      },
    });
    return { keys: expected.length };
  },
  noop: (): ApiKeys => ({ keys: 0 }),
});

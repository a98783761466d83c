import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { InjectPlugin, Service } from '@plinth/core';
import { postgres } from '@plinth/plugin-postgres';
import { createScratchPostgresDatabase, startSentryEnvelopeServer, waitFor, type ScratchPostgresDatabase, type SentryEnvelopeServer } from '@plinth/testkit';
import { sentry, type SentryPlugin } from '../src/index.js';
import { exceptionValue, stopApps, tagsOf, trackedApp, trackingEnv } from './helpers.js';

let server: SentryEnvelopeServer;
let database: ScratchPostgresDatabase;
before(async () => {
  server = await startSentryEnvelopeServer();
  database = await createScratchPostgresDatabase('sentry_scrub');
});
after(async () => {
  await server.close();
  await database.drop();
});
afterEach(stopApps);

@Service()
class Reports {
  constructor(@InjectPlugin('error_tracking') readonly tracker: SentryPlugin) {}
}

/** The scratch database's URL with a password (trust auth accepts any), as a deployment would set it. */
function urlWithPassword(password: string): string {
  const url = new URL(database.url);
  url.password = password;
  return url.toString();
}

describe('scrubbing', () => {
  it("a PostgreSQL password from another plugin's URL never appears in any envelope", async () => {
    const password = 'Pg-s3cret-7d1c';
    const url = urlWithPassword(password);
    const { app } = trackedApp({
      plugins: [sentry('error_tracking'), postgres('primary_db')],
      services: [Reports],
      env: { [trackingEnv('DSN')]: server.dsn(), TRACKED_APP_PRIMARY_DB_URL: url },
    });
    await app.start();
    const { tracker } = app.get<Reports>(Reports);
    assert.ok(tracker.sdk, 'the raw SDK, loaded once the plugin started');
    tracker.sdk.addBreadcrumb({ message: `connecting with ${password}`, data: { url } });
    tracker.captureException(new Error(`query failed on ${url} (password ${password})`), { extra: { dsn: url, nested: { list: [password] } } });
    tracker.captureMessage(`raw secret ${password} and bare ${url}`);
    const failure = await server.waitForEvent((e) => /query failed/.test(exceptionValue(e) ?? ''));
    await server.waitForEvent((e) => /raw secret/.test(String(e.message)));
    assert.match(exceptionValue(failure) ?? '', /<redacted>/);
    assert.ok(server.rawBodies.length >= 2);
    for (const body of server.rawBodies) assert.ok(!body.includes(password), `the password was sent: ${body.slice(0, 300)}`);
  });

  it("a user's beforeSend and beforeBreadcrumb run first; what they add is scrubbed too, and null drops", async () => {
    const password = 'Pg-s3cret-91aa';
    const seen: string[] = [];
    const { app } = trackedApp({
      plugins: [
        sentry('error_tracking', {
          beforeSend(event) {
            seen.push(String(event.message));
            if (event.message === 'drop me') return null;
            event.tags = { ...event.tags, reviewed: 'yes' };
            event.extra = { ...event.extra, note: `added with ${password}` };
            return event;
          },
          beforeBreadcrumb: (crumb) => (crumb.category === 'noise' ? null : crumb),
        }),
        postgres('primary_db'),
      ],
      services: [Reports],
      env: { [trackingEnv('DSN')]: server.dsn(), TRACKED_APP_PRIMARY_DB_URL: urlWithPassword(password) },
    });
    await app.start();
    const { tracker } = app.get<Reports>(Reports);
    assert.ok(tracker.sdk);
    tracker.sdk.addBreadcrumb({ category: 'noise', message: 'ignored' });
    tracker.captureMessage('drop me');
    tracker.captureMessage('keep me');
    const kept = await server.waitForEvent((e) => e.message === 'keep me');
    // The SDK prepares events concurrently: beforeSend may see the second before the first.
    await waitFor(() => seen.includes('drop me'), { message: "beforeSend saw 'drop me'" });
    assert.deepEqual(seen.filter((m) => m.endsWith(' me')).sort(), ['drop me', 'keep me'], 'beforeSend saw each once');
    assert.equal(tagsOf(kept).reviewed, 'yes');
    assert.equal((kept.extra as Record<string, unknown>).note, 'added with <redacted>');
    assert.ok(!((kept.breadcrumbs ?? []) as { category?: string }[]).some((b) => b.category === 'noise'));
    assert.equal(server.events.filter((e) => e.message === 'drop me').length, 0);
  });
});

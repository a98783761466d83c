import { randomUUID } from 'node:crypto';
import { setting } from '../config/setting.js';
import { definePlugin } from '../plugin/define-plugin.js';
import { PLUGIN_API_VERSION } from '../plugin/plugin-api.js';

/** An incoming id is kept only when it is short and plain, so it cannot forge log lines. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const requestIdSettings = {
  header: setting.nonEmptyString({ doc: 'Header that carries the request id, in requests and responses', default: 'x-request-id' }),
  trustIncoming: setting.boolean({ doc: 'Keep an id the caller sent (a proxy or another service) instead of always creating one', default: true }),
  priority: setting.int({ doc: 'Order among request handlers (lower first)', default: -100 }),
};

/** What the request-ids plugin exposes: the header it reads and writes. */
export interface RequestIds {
  readonly header: string;
}

/**
 * Gives every request an id: the caller's `x-request-id` when it is acceptable, else a new
 * UUID. The id is echoed in the response and added to every log line of the request
 * (`requestId`). Runs early (priority -100), so later handlers' lines carry it too.
 */
export const requestIds = definePlugin({
  type: 'request-ids',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: false,
  settings: requestIdSettings,
  create: (ctx): RequestIds => {
    const { header, trustIncoming, priority } = ctx.settings;
    ctx.app.addRequestHandler({
      name: 'request-ids',
      priority,
      onRequest(request) {
        const incoming = request.header(header);
        const id = trustIncoming && incoming !== undefined && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
        request.setResponseHeader(header, id);
        request.addLogFields({ requestId: id });
      },
    });
    return { header };
  },
  noop: (ctx): RequestIds => ({ header: ctx.settings.header }),
});

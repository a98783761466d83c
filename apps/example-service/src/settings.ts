import { setting, type SettingsOf } from '@plinth/core';

/** The example's own settings: `EXAMPLE_SERVICE_HTTP_PORT`, `EXAMPLE_SERVICE_HTTP_HOST`. */
export const exampleSettings = {
  httpPort: setting.portOrZero({ doc: 'Port of the HTTP API (and of the /health probes)', default: 3000 }),
  httpHost: setting.nonEmptyString({ doc: 'Address the HTTP API listens on', default: '0.0.0.0' }),
};

export type ExampleSettings = SettingsOf<typeof exampleSettings>;

// @plinth/core/handlers: request-handler plugins that ship with core, each off unless declared.
export { apiKeys, type ApiKeys } from './api-keys.js';
export { requestIds, type RequestIds } from './request-ids.js';

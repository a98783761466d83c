// @plinth/core/http: the HTTP building blocks behind attachHttpServer, serveHttp and the
// probes, for tools that serve or drain a server themselves.
export { ConnectionTracker } from './connection-tracker.js';
export { drainHttpServer, type DrainOptions, type DrainReport } from './drain-server.js';
export type { AttachHttpServerOptions, HttpServerSource } from './attached-server.js';
export type { ServeHttpOptions } from './serve-http.js';
export { isReady, type CheckResult, type CheckResults, type HealthReport, type HealthStatus } from '../health/health-report.js';
export type { HealthServer, ServeHealthOptions } from '../health/health-server.js';
export { unavailableResponder, UnavailableResponder, type ReplyLike, type UnavailableAnswer, type UnavailablePlugin, type UnavailableResponderOptions, type UnavailableSource } from './unavailable-responder.js';
export type { RequestContext, RequestHandler, RequestOutcome, RequestStop, ResponseContext } from './request-handler.js';

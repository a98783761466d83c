// @plinth/core/resilience: the circuit breakers plugins get from `ctx.breaker(name, options)`
// and the metrics helper they get as `ctx.metrics`.
export type { Breaker, BreakerOptions, BreakerState, ErrorRatioOptions } from './breaker.js';
export { BreakerOpenError } from '../errors.js';
export { CallDeadlines, type CallDeadlinesOptions } from './call-deadlines.js';
export {
  LATENCY_BUCKETS,
  type CounterOptions,
  type CounterTotals,
  type GaugeOptions,
  type HistogramOptions,
  type MetricLabels,
  type MetricOptions,
  type PluginCounter,
  type PluginGauge,
  type PluginHistogram,
  type PluginMetrics,
} from '../metrics/plugin-metrics.js';

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Values of a metric's own labels; `plugin` and `prefix` are added by the helper. */
export type MetricLabels<L extends string> = Partial<Record<L, string | number>>;

export interface MetricOptions<L extends string> {
  /** Prometheus conventions: `plinth_<type>_…`, base units, `_total` on counters. */
  readonly name: string;
  readonly help: string;
  /** Bounded label sets only: never keys, SQL text or other user input. */
  readonly labelNames?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds in seconds; default {@link LATENCY_BUCKETS}. */
  readonly buckets?: readonly number[];
}

export interface CounterOptions<L extends string> extends MetricOptions<L> {
  /** Read at scrape time: set this instance's totals from counts the plugin keeps anyway. */
  readonly collect?: (counter: CounterTotals<L>) => void;
}

/** Sets a counter's totals at scrape time (`collect`): each must only grow. */
export interface CounterTotals<L extends string> {
  set(labels: MetricLabels<L>, total: number): void;
}

export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /** Read at scrape time: set this instance's current values. */
  readonly collect?: (gauge: PluginGauge<L>) => void;
}

export interface PluginCounter<L extends string> {
  inc(labels?: MetricLabels<L>, value?: number): void;
}

export interface PluginGauge<L extends string> {
  set(labels: MetricLabels<L>, value: number): void;
  inc(labels?: MetricLabels<L>, value?: number): void;
  dec(labels?: MetricLabels<L>, value?: number): void;
}

export interface PluginHistogram<L extends string> {
  observe(labels: MetricLabels<L>, seconds: number): void;
}

/**
 * Metrics of one plugin instance on the app's registry, each sample labelled with `plugin`
 * (the type) and `prefix` (the instance). Two instances of one type share each family.
 */
export interface PluginMetrics {
  counter<L extends string = never>(options: CounterOptions<L>): PluginCounter<L>;
  gauge<L extends string = never>(options: GaugeOptions<L>): PluginGauge<L>;
  histogram<L extends string = never>(options: HistogramOptions<L>): PluginHistogram<L>;
}

/** Latency buckets in seconds, from a cache hit to a slow query. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const INSTANCE_LABELS = ['plugin', 'prefix'] as const;

type Family = { readonly kind: string; readonly labels: string; readonly metric: Counter | Gauge | Histogram; readonly collectors: Set<() => void> };

/** Families by registry and name: prom-client refuses to register a name twice. */
const families = new WeakMap<Registry, Map<string, Family>>();

function familyOf(registry: Registry, kind: 'counter' | 'gauge' | 'histogram', options: HistogramOptions<string>): Family {
  let byName = families.get(registry);
  if (!byName) families.set(registry, (byName = new Map()));
  const labelNames = [...INSTANCE_LABELS, ...(options.labelNames ?? [])];
  const labels = labelNames.join(',');
  const existing = byName.get(options.name);
  if (existing) {
    if (existing.kind !== kind || existing.labels !== labels) {
      throw new TypeError(`metric ${options.name} is already registered as a ${existing.kind} with labels ${existing.labels}`);
    }
    return existing;
  }
  const collectors = new Set<() => void>();
  const common = { name: options.name, help: options.help, labelNames, registers: [registry] };
  const collect = (): void => {
    for (const collector of collectors) collector();
  };
  const metric =
    kind === 'counter'
      ? new Counter({ ...common, collect })
      : kind === 'histogram'
        ? new Histogram({ ...common, buckets: [...(options.buckets ?? LATENCY_BUCKETS)] })
        : new Gauge({ ...common, collect });
  const family = { kind, labels, metric, collectors };
  byName.set(options.name, family);
  return family;
}

/** The metrics helper a plugin instance gets as `ctx.metrics`. */
export function createPluginMetrics(registry: () => Registry, pluginType: string, prefix: string): PluginMetrics {
  const own = { plugin: pluginType, prefix };
  const withOwn = <L extends string>(labels: MetricLabels<L> | undefined): Record<string, string | number> =>
    labels === undefined ? own : { ...(labels as Record<string, string | number>), ...own };
  return {
    counter<L extends string = never>(options: CounterOptions<L>): PluginCounter<L> {
      const family = familyOf(registry(), 'counter', options);
      const counter = family.metric as Counter;
      const collect = options.collect;
      if (collect) {
        const totals: CounterTotals<L> = {
          set(labels, total) {
            const all = withOwn(labels);
            counter.remove(all);
            counter.inc(all, total);
          },
        };
        family.collectors.add(() => collect(totals));
      } else if (!options.labelNames?.length) {
        // A series without labels of its own shows 0 from the start, not only after the first event.
        counter.inc(own, 0);
      }
      return { inc: (labels, value = 1) => counter.inc(withOwn(labels), value) };
    },
    gauge<L extends string = never>(options: GaugeOptions<L>): PluginGauge<L> {
      const family = familyOf(registry(), 'gauge', options);
      const gauge = family.metric as Gauge;
      const handle: PluginGauge<L> = {
        set: (labels, value) => gauge.set(withOwn(labels), value),
        inc: (labels, value = 1) => gauge.inc(withOwn(labels), value),
        dec: (labels, value = 1) => gauge.dec(withOwn(labels), value),
      };
      const collect = options.collect;
      if (collect) family.collectors.add(() => collect(handle));
      else if (!options.labelNames?.length) gauge.set(own, 0);
      return handle;
    },
    histogram<L extends string = never>(options: HistogramOptions<L>): PluginHistogram<L> {
      const histogram = familyOf(registry(), 'histogram', options).metric as Histogram;
      return { observe: (labels, seconds) => histogram.observe(withOwn(labels), seconds) };
    },
  };
}

const ignore = (): void => undefined;

/** What `ctx.metrics` is with `{APP}_METRICS=false`: every call does nothing. */
export const NO_PLUGIN_METRICS: PluginMetrics = {
  counter: () => ({ inc: ignore }),
  gauge: () => ({ set: ignore, inc: ignore, dec: ignore }),
  histogram: () => ({ observe: ignore }),
};

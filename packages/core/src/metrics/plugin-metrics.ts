import type { Gauge, Registry } from 'prom-client';
import { LocalCounter, LocalHistogram, register } from './local-series.js';
import { promClient } from './prom-client.js';

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
  /**
   * Read at scrape time: set this instance's current values. It may return a promise (a
   * value read from a database): the scrape waits for it, so it should not throw and
   * should be quick.
   */
  readonly collect?: (gauge: PluginGauge<L>) => void | Promise<void>;
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
  /** False with `{APP}_METRICS=false`: every call does nothing, and a plugin may skip its instrumentation. */
  readonly enabled: boolean;
  counter<L extends string = never>(options: CounterOptions<L>): PluginCounter<L>;
  gauge<L extends string = never>(options: GaugeOptions<L>): PluginGauge<L>;
  histogram<L extends string = never>(options: HistogramOptions<L>): PluginHistogram<L>;
}

/** Latency buckets in seconds, from a cache hit to a slow query. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const INSTANCE_LABELS = ['plugin', 'prefix'] as const;

type Kind = 'counter' | 'gauge' | 'histogram';
type Family = { readonly kind: Kind; readonly labels: string; readonly metric: LocalCounter | LocalHistogram | Gauge; readonly collectors: Set<() => void | Promise<void>> };

/** Families by registry and name: a registry takes each name once. */
const families = new WeakMap<Registry, Map<string, Family>>();

function familyOf(registry: Registry, kind: Kind, options: HistogramOptions<string>): Family {
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
  const collectors = new Set<() => void | Promise<void>>();
  let metric: Family['metric'];
  if (kind === 'gauge') {
    const { Gauge } = promClient();
    metric = new Gauge({
      name: options.name,
      help: options.help,
      labelNames,
      registers: [registry],
      collect() {
        // Synchronous collectors keep the scrape synchronous; asynchronous ones run together.
        const pending: Promise<void>[] = [];
        for (const collect of collectors) {
          const result = collect();
          if (result instanceof Promise) pending.push(result);
        }
        return pending.length === 0 ? undefined : Promise.all(pending).then(() => undefined);
      },
    });
  } else {
    metric = kind === 'counter' ? new LocalCounter(options.name, options.help, labelNames) : new LocalHistogram(options.name, options.help, labelNames, options.buckets ?? LATENCY_BUCKETS);
    register(registry, metric);
  }
  const family = { kind, labels, metric, collectors };
  byName.set(options.name, family);
  return family;
}

/** Finds (or makes) the series of one label set in an instance's group: keyed by the values, in label order. */
function seriesFinder<Cell>(
  own: Readonly<Record<string, string>>,
  labelNames: readonly string[],
  group: Map<string, Cell>,
  make: (labels: Record<string, string | number>) => Cell,
): (labels: MetricLabels<string> | undefined) => Cell {
  return (labels) => {
    let key = '';
    if (labels !== undefined) for (const name of labelNames) key += `${String(labels[name] ?? '')}\u0000`;
    let cell = group.get(key);
    if (cell === undefined) {
      const all: Record<string, string | number> = { ...own };
      for (const name of labelNames) {
        const value = labels?.[name];
        if (value !== undefined) all[name] = value;
      }
      group.set(key, (cell = make(all)));
    }
    return cell;
  };
}

/** The metrics helper a plugin instance gets as `ctx.metrics`. */
export function createPluginMetrics(registry: () => Registry, pluginType: string, prefix: string): PluginMetrics {
  const own = { plugin: pluginType, prefix };
  const withOwn = <L extends string>(labels: MetricLabels<L> | undefined): Record<string, string | number> =>
    labels === undefined ? own : { ...(labels as Record<string, string | number>), ...own };
  return {
    enabled: true,
    counter<L extends string = never>(options: CounterOptions<L>): PluginCounter<L> {
      const family = familyOf(registry(), 'counter', options).metric as LocalCounter;
      const find = seriesFinder(own, options.labelNames ?? [], family.group(), (labels) => ({ labels, value: 0 }));
      const collect = options.collect;
      if (collect) {
        const totals: CounterTotals<L> = {
          set(labels, total) {
            find(labels).value = total;
          },
        };
        family.addCollector(() => collect(totals));
      } else if (!options.labelNames?.length) {
        // A series without labels of its own shows 0 from the start, not only after the first event.
        find(undefined);
      }
      return {
        inc(labels, value = 1) {
          find(labels).value += value;
        },
      };
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
      const family = familyOf(registry(), 'histogram', options).metric as LocalHistogram;
      const find = seriesFinder(own, options.labelNames ?? [], family.group(), (labels) => family.newCell(labels));
      return {
        observe(labels, seconds) {
          family.observe(find(labels), seconds);
        },
      };
    },
  };
}

const ignore = (): void => undefined;

/** What `ctx.metrics` is with `{APP}_METRICS=false`: every call does nothing. */
export const NO_PLUGIN_METRICS: PluginMetrics = {
  enabled: false,
  counter: () => ({ inc: ignore }),
  gauge: () => ({ set: ignore, inc: ignore, dec: ignore }),
  histogram: () => ({ observe: ignore }),
};

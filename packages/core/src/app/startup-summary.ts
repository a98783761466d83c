import type { LifecycleComponent } from '../lifecycle/component.js';
import type { LifecycleEvent } from '../lifecycle/events.js';

export interface ComponentSummary {
  readonly component: string;
  readonly kind: 'plugin' | 'service';
  readonly pluginType: string | undefined;
  readonly status: 'started' | 'degraded';
  readonly preStartMs: number | undefined;
  readonly onStartMs: number | undefined;
  /** Present on a plugin running its embedded fallback. */
  readonly embedded?: true;
}

interface Span {
  first?: number;
  last?: number;
}

/**
 * One line per plugin and per service that ran a start hook: how long each phase took,
 * from first attempt to success. A service without hooks did nothing to start, and the
 * app's "starting" line already lists it: a line of its own would say nothing, and an app
 * of many plain services would log (and format) one for each at every start.
 */
export function summarizeStartup(components: readonly LifecycleComponent[], events: readonly LifecycleEvent[]): ComponentSummary[] {
  // First begin and last outcome of each component's phase, in one pass over the events.
  const spans = new Map<string, { preStart?: Span; onStart?: Span }>();
  for (const event of events) {
    if (event.phase !== 'preStart' && event.phase !== 'onStart') continue;
    let phases = spans.get(event.component);
    if (!phases) spans.set(event.component, (phases = {}));
    const span = (phases[event.phase] ??= {});
    if (event.outcome !== 'begin') span.last = event.at;
    else span.first ??= event.at;
  }
  const span = (id: string, phase: 'preStart' | 'onStart'): number | undefined => {
    const { first, last } = spans.get(id)?.[phase] ?? {};
    return first !== undefined && last !== undefined ? Math.round((last - first) * 10) / 10 : undefined;
  };
  const lines: ComponentSummary[] = [];
  for (const c of components) {
    if (c.kind === 'service' && typeof c.instance.preStart !== 'function' && typeof c.instance.onStart !== 'function') continue;
    const preStartMs = span(c.id, 'preStart');
    const onStartMs = span(c.id, 'onStart');
    lines.push({
      component: c.id,
      kind: c.kind,
      pluginType: c.pluginType,
      status: c.availability && !c.availability.available ? 'degraded' : 'started',
      preStartMs,
      onStartMs,
      ...(c.embedded ? { embedded: true as const } : {}),
    });
  }
  return lines;
}

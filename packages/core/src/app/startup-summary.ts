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

/** One line per component: how long each phase took, from first attempt to success. */
export function summarizeStartup(components: readonly LifecycleComponent[], events: readonly LifecycleEvent[]): ComponentSummary[] {
  const span = (id: string, phase: 'preStart' | 'onStart'): number | undefined => {
    const own = events.filter((e) => e.component === id && e.phase === phase);
    const first = own.find((e) => e.outcome === 'begin');
    const last = own.findLast((e) => e.outcome !== 'begin');
    return first && last ? Math.round((last.at - first.at) * 10) / 10 : undefined;
  };
  return components.map((c) => ({
    component: c.id,
    kind: c.kind,
    pluginType: c.pluginType,
    status: c.availability && !c.availability.available ? 'degraded' : 'started',
    preStartMs: span(c.id, 'preStart'),
    onStartMs: span(c.id, 'onStart'),
    ...(c.embedded ? { embedded: true as const } : {}),
  }));
}

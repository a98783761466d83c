import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';

const deployDir = new URL('../../../deploy/kubernetes/', import.meta.url);
const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');

type Manifest = { kind: string; metadata: { name: string } } & Record<string, unknown>;
const manifests: Manifest[] = readdirSync(deployDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(new URL(f, deployDir), 'utf8')).map((d) => d.toJS() as Manifest));
const byKind = (kind: string) => {
  const found = manifests.find((m) => m.kind === kind);
  assert.ok(found, `a ${kind} manifest exists`);
  return found;
};

describe('Kubernetes manifests', () => {
  it('validate against the Kubernetes schemas', () => {
    const models = { Deployment, ConfigMap, Secret, Service, PodDisruptionBudget } as const;
    assert.deepEqual(manifests.map((m) => m.kind).sort(), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service']);
    for (const manifest of manifests) {
      const Model = models[manifest.kind as keyof typeof models];
      assert.doesNotThrow(() => new Model(manifest as never).validate(), `${manifest.kind} is valid`);
    }
  });

  it('catches an invalid manifest (the validation is real)', () => {
    const broken = structuredClone(byKind('Deployment')) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    assert.throws(() => new Deployment(broken as never).validate(), /replicas/);
    const brokenBudget = structuredClone(byKind('PodDisruptionBudget')) as unknown as { spec: { selector: unknown } };
    brokenBudget.spec.selector = 'app=example-service';
    assert.throws(() => new PodDisruptionBudget(brokenBudget as never).validate(), /selector/);
  });

  type Labels = { matchLabels: Record<string, string> };
  type SpreadConstraint = { topologyKey: string; maxSkew: number; labelSelector: Labels; matchLabelKeys?: string[] };
  const deployment = byKind('Deployment') as unknown as {
    spec: {
      replicas: number;
      minReadySeconds: number;
      selector: Labels;
      strategy: { type: string; rollingUpdate: { maxUnavailable: number | string; maxSurge: number | string } };
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          terminationGracePeriodSeconds: number;
          enableServiceLinks: boolean;
          containers: Container[];
          topologySpreadConstraints: SpreadConstraint[];
        };
      };
    };
  };
  const budget = byKind('PodDisruptionBudget') as unknown as { spec: { maxUnavailable?: number; minAvailable?: number; selector: Labels } };
  /** True when every label of the selector is on the Deployment's pods. */
  const selectsPods = (selector: Labels): boolean =>
    Object.entries(selector.matchLabels).every(([key, value]) => deployment.spec.template.metadata.labels[key] === value);
  type Probe = { httpGet: { path: string; port: string | number } };
  type Container = {
    ports: { name: string; containerPort: number }[];
    startupProbe: Probe;
    livenessProbe: Probe;
    readinessProbe: Probe;
    lifecycle: { preStop: Record<string, { seconds?: number }> };
    resources: { requests: Record<string, string> };
    envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  };
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0]!;
  const config = (byKind('ConfigMap') as unknown as { data: Record<string, string> }).data;
  const secret = (byKind('Secret') as unknown as { stringData: Record<string, string> }).stringData;

  it('rolls out without dropping below the desired number of ready replicas', () => {
    assert.ok(deployment.spec.replicas >= 3, 'several replicas');
    assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0, 'an old pod goes only once its replacement is ready');
    assert.ok(Number(deployment.spec.strategy.rollingUpdate.maxSurge) >= 1, 'a new pod can start beside the old ones');
    assert.ok(deployment.spec.minReadySeconds > 0, 'a new pod is in load balancers before the next old one goes');
  });

  it('lets voluntary disruptions take one replica at a time', () => {
    assert.ok(selectsPods(budget.spec.selector), "the budget selects the Deployment's pods");
    const allowed = budget.spec.maxUnavailable ?? deployment.spec.replicas - (budget.spec.minAvailable ?? deployment.spec.replicas);
    assert.equal(allowed, 1, 'one at a time');
    assert.ok(allowed < deployment.spec.replicas, 'a drain can never take them all');
  });

  it('spreads replicas across nodes and zones', () => {
    const constraints = pod.topologySpreadConstraints;
    assert.deepEqual(constraints.map((c) => c.topologyKey).sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const constraint of constraints) {
      assert.ok(selectsPods(constraint.labelSelector), `${constraint.topologyKey} spreads this Deployment's pods`);
      assert.equal(constraint.maxSkew, 1);
      assert.deepEqual(constraint.matchLabelKeys, ['pod-template-hash'], 'each revision spreads on its own');
    }
  });

  it('points each probe at the right path on the HTTP port', () => {
    assert.equal(container.startupProbe.httpGet.path, '/health/startup');
    assert.equal(container.livenessProbe.httpGet.path, '/health/live');
    assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
    const port = container.ports.find((p) => p.name === 'http');
    assert.equal(String(port?.containerPort), config['EXAMPLE_SERVICE_HTTP_PORT']);
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      assert.equal(probe.httpGet.port, 'http');
    }
  });

  it('gives the pod more grace than preStop plus the shutdown budget', () => {
    const preStopSeconds = container.lifecycle.preStop['sleep']?.seconds ?? 0;
    const shutdownTimeoutMs = Number(config['EXAMPLE_SERVICE_SHUTDOWN_TIMEOUT']);
    const shutdownDelayMs = Number(config['EXAMPLE_SERVICE_SHUTDOWN_DELAY']);
    assert.ok(shutdownTimeoutMs > shutdownDelayMs, 'the delay fits in the shutdown budget');
    assert.ok(
      pod.terminationGracePeriodSeconds >= preStopSeconds + shutdownTimeoutMs / 1000 + 2,
      `grace ${pod.terminationGracePeriodSeconds}s covers preStop ${preStopSeconds}s + shutdown ${shutdownTimeoutMs / 1000}s with a margin`,
    );
  });

  it('uses a preStop that needs no shell, and requests resources', () => {
    assert.deepEqual(Object.keys(container.lifecycle.preStop), ['sleep']);
    assert.ok(container.resources.requests['cpu']);
    assert.ok(container.resources.requests['memory']);
    assert.equal(pod.enableServiceLinks, false);
  });

  it('takes config from the ConfigMap and secrets from the Secret', () => {
    assert.ok(container.envFrom.some((e) => e.configMapRef?.name === 'example-service'));
    assert.ok(container.envFrom.some((e) => e.secretRef?.name === 'example-service'));
    for (const name of Object.keys(config)) assert.doesNotMatch(name, /URL|PASSWORD|TOKEN/, `${name} belongs in the Secret`);
    for (const name of ['EXAMPLE_SERVICE_PRIMARY_DB_URL', 'EXAMPLE_SERVICE_SESSION_CACHE_URL', 'EXAMPLE_SERVICE_EVENTS_URL', 'EXAMPLE_SERVICE_ERROR_TRACKING_DSN']) {
      assert.ok(name in secret, `${name} is in the Secret`);
    }
  });

  it('turns error reporting on with the Sentry preload for this app, once the DSN is set', () => {
    assert.match(config['NODE_OPTIONS'] ?? '', /(^| )--import @plinth\/plugin-sentry\/preload( |$)/);
    assert.equal(config['PLINTH_SENTRY_APP'], 'example-service', 'the preload reads EXAMPLE_SERVICE_ERROR_TRACKING_*');
    assert.equal(secret['EXAMPLE_SERVICE_ERROR_TRACKING_DSN'], '', 'off until a DSN is set');
  });
});

describe('Dockerfile', () => {
  it('starts node with the flags of the example\'s start command', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    const flags = (manifest.scripts['start'] ?? '').split(/\s+/).filter((arg) => arg.startsWith('--'));
    assert.ok(flags.includes('--max-semi-space-size=4'), 'the young generation is capped');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.deepEqual((JSON.parse(cmd ?? '[]') as string[]).filter((arg) => arg.startsWith('--')), flags);
  });

  it('is multi-stage, runs as a non-root user, and execs node as PID 1', () => {
    assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^CMD \["node", ("--[^"]+", )*"apps\/example-service\/dist\/main\.js"\]$/m, 'exec form: no shell between PID 1 and node');
    assert.doesNotMatch(dockerfile, /^(CMD|ENTRYPOINT) [^[]/m, 'no shell-form CMD or ENTRYPOINT');
  });
});

/**
 * Offline checks of executor/k8s (there is no cluster here): the manifests parse, reference each other
 * consistently (labels, names, secret key, named ports), probe the gRPC health port, set resource requests, and
 * configure the executor only through environment variables it really reads. `kubectl kustomize` renders them
 * (kubectl comes from Debian's kubernetes-client; npm test's set-up installs it). The container test (`npm run test:container`) runs the image with this env.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../remote/helpers/executors.js';

type Manifest = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: Record<string, unknown> } & Record<string, unknown>;

function load(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(ROOT, 'executor/k8s', file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Manifest;
  });
}

const all = ['deployment.yaml', 'service.yaml', 'hpa.yaml', 'secret.yaml'].flatMap(load);
const byKind = (kind: string): Manifest => all.find((m) => m.kind === kind)!;
/* eslint-disable @typescript-eslint/no-explicit-any -- walking parsed YAML */
const deployment = byKind('Deployment') as any;
const container = deployment.spec.template.spec.containers[0];

describe('kubernetes manifests', () => {
  it('has a Deployment, a headless Service, an HPA and a Secret for the token', () => {
    expect(all.map((m) => m.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'Secret', 'Service']);
    const service = byKind('Service') as any;
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    const portNames = container.ports.map((p: { name: string }) => p.name);
    for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    const hpa = byKind('HorizontalPodAutoscaler') as any;
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it('probes gRPC health on the executor port; requests resources; runs as the image user', () => {
    const env = Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    const grpcPort = container.ports.find((p: any) => p.name === 'grpc').containerPort;
    expect(String(grpcPort)).toBe(env.REMOTEMEDIA_PORT);
    expect(String(container.ports.find((p: any) => p.name === 'metrics').containerPort)).toBe(env.REMOTEMEDIA_METRICS_PORT);
    expect(container.readinessProbe.grpc.port).toBe(grpcPort);
    expect(container.livenessProbe.grpc.port).toBe(grpcPort);
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    const user = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(ROOT, 'executor/Dockerfile'), 'utf8'))!;
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user[1]), runAsGroup: Number(user[2]) });
    // Drain time fits in the pod's termination grace period.
    expect(Number(env.REMOTEMEDIA_SHUTDOWN_GRACE_MS) / 1000).toBeLessThan(deployment.spec.template.spec.terminationGracePeriodSeconds);
  });

  it('takes the token from the Secret and sets only env variables the executor reads', () => {
    const secret = byKind('Secret') as any;
    const tokenEnv = container.env.find((e: any) => e.name === 'REMOTEMEDIA_TOKEN');
    expect(tokenEnv.valueFrom.secretKeyRef).toEqual({ name: secret.metadata.name, key: 'token' });
    expect(Object.keys(secret.stringData)).toContain('token');
    const cliSource = readFileSync(join(ROOT, 'executor/cli.ts'), 'utf8');
    for (const { name } of container.env) {
      if (name === 'REMOTEMEDIA_MODELS') continue; // read by the ML engines, not by the executor CLI
      expect(cliSource, name).toContain(`'${name}'`);
    }
  });

  it('renders with kubectl kustomize', () => {
    expect(hasKubectl(), 'kubectl not found: apt-get install -y kubernetes-client (npm test does it)').toBe(true);
    const rendered = execFileSync('kubectl', ['kustomize', join(ROOT, 'executor/k8s')], { encoding: 'utf8' });
    expect(parseAllDocuments(rendered).map((d) => (d.toJS() as Manifest).kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'Secret', 'Service']);
  });
});

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('compose.yaml', () => {
  it('wires the executor and the WebRTC demo: token from env, models volume, the demo pointed at the executor', () => {
    const compose = parseAllDocuments(readFileSync(join(ROOT, 'executor/compose.yaml'), 'utf8'), { merge: true })[0]!.toJS() as any;
    const { executor, webrtc } = compose.services;
    expect(executor.environment.REMOTEMEDIA_TOKEN).toMatch(/^\$\{REMOTEMEDIA_TOKEN:\?/);
    expect(webrtc.environment.REMOTEMEDIA_TOKEN).toMatch(/^\$\{REMOTEMEDIA_TOKEN:\?/);
    for (const service of [executor, webrtc]) expect(service.volumes.some((v: string) => v.endsWith(':/models:ro'))).toBe(true);
    expect(executor.build.dockerfile).toBe('executor/Dockerfile');
    const published = executor.ports.map((p: string) => p.split(':').slice(-2).join(':'));
    expect(published).toContain(`${executor.environment.REMOTEMEDIA_PORT}:${executor.environment.REMOTEMEDIA_PORT}`);
    expect(webrtc.command.join(' ')).toContain(`--executor 127.0.0.1:${executor.environment.REMOTEMEDIA_PORT}`);
    expect(webrtc.depends_on.executor.condition).toBe('service_healthy');
  });
});

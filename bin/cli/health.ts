/**
 * `remotemedia health <address>`: the standard gRPC health check (`grpc.health.v1.Health/Check`) of an executor,
 * as a probe: prints `{"address","service","status"}` and exits 0 only when the status is SERVING (1 otherwise,
 * 2 when the executor cannot be reached). `--status` adds the executor's GetStatus numbers.
 *
 * @module
 */
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { service as healthService } from 'grpc-health-check';
import { executorStatus } from '../../src/remote/executorClient.js';

/** Result of one health check. */
export interface HealthResult {
  /** `SERVING`, `NOT_SERVING`, `UNKNOWN`, or `UNREACHABLE` (with `error`). */
  readonly status: string;
  readonly error?: string;
}

/** Asks `address` for the health of `service` (`''` = the whole server) within `timeoutMs`. */
export function checkHealth(address: string, options: { service?: string; tls?: boolean; timeoutMs?: number } = {}): Promise<HealthResult> {
  const Health = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
  const client = new Health(address, options.tls === true ? credentials.createSsl() : credentials.createInsecure());
  const deadline = new Date(Date.now() + (options.timeoutMs ?? 5_000));
  return new Promise<HealthResult>((resolve) =>
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      healthService.Check!.requestSerialize,
      healthService.Check!.responseDeserialize,
      { service: options.service ?? '' },
      { deadline },
      (error: ServiceError | null, value?: unknown) => {
        client.close();
        if (error !== null) resolve({ status: 'UNREACHABLE', error: `${error.code}: ${error.details}` });
        else resolve({ status: (value as { status: string }).status });
      },
    ),
  );
}

export function addHealthCommand(program: Command): void {
  program
    .command('health')
    .description('gRPC health check of an executor; exit 0 when SERVING (for probes and scripts)')
    .argument('<address>', 'executor host:port')
    .option('--service <name>', "service to check ('' = whole server)", '')
    .option('--tls', 'connect with TLS (system roots)')
    .option('--timeout-ms <n>', 'give up after this long', (v) => Number(v), 5000)
    .option('--status', "also print the executor's GetStatus numbers (needs the token if it has one)")
    .option('--token <token>', 'token for --status (default: env REMOTEMEDIA_TOKEN)')
    .action(async (address: string, flags: { service: string; tls?: boolean; timeoutMs: number; status?: boolean; token?: string }) => {
      const result = await checkHealth(address, { service: flags.service, tls: flags.tls === true, timeoutMs: flags.timeoutMs });
      const out: Record<string, unknown> = { address, service: flags.service, ...result };
      if (flags.status === true && result.status !== 'UNREACHABLE') {
        const token = flags.token ?? process.env['REMOTEMEDIA_TOKEN'];
        out['executor'] = await executorStatus({ address, tls: flags.tls === true, deadlineMs: flags.timeoutMs, ...(token !== undefined && { token }) });
      }
      process.stdout.write(`${JSON.stringify(out)}\n`);
      process.exitCode = result.status === 'SERVING' ? 0 : result.status === 'UNREACHABLE' ? 2 : 1;
    });
}

/**
 * The real server's files: its static config (one process, all four services, PostgreSQL for
 * history and visibility) and its dynamic config, and the loopback ports it listens on.
 */
import { createServer } from 'node:net';
import type { RunningPostgres } from './postgres';
import { TemporalOnPostgresError } from './errors';

export const HOST = '127.0.0.1';
/** The server reads the database password from this variable (config template). */
export const PASSWORD_ENV = 'SORA_SERIES_TEMPORAL_DB_PASSWORD';

export interface Ports {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** Whether `port` can be bound on loopback right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', () => done(false));
    probe.listen(port, HOST, () => probe.close(() => done(true)));
  });
}

/**
 * Free ports below 32768: the server stores its membership port in a PostgreSQL `smallint`
 * (cluster_membership.rpc_port), so the kernel's ephemeral ports (32768 and up) would fail its start.
 */
export async function freePorts(): Promise<Ports> {
  const names: Array<keyof Ports> = [
    'frontend',
    'frontendHttp',
    'frontendMembership',
    'history',
    'historyMembership',
    'matching',
    'matchingMembership',
    'worker',
    'workerMembership',
  ];
  const ports = new Set<number>();
  for (let tries = 0; ports.size < names.length; tries++) {
    if (tries > 1000) throw new TemporalOnPostgresError('no free ports between 20000 and 32767 on loopback');
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (!ports.has(port) && (await canBind(port))) ports.add(port);
  }
  const list = [...ports];
  return Object.fromEntries(names.map((name, i) => [name, list[i]])) as unknown as Ports;
}

/** The server's static config: the password is read from PASSWORD_ENV, never written. */
export function serverConfig(
  pg: Pick<RunningPostgres, 'host' | 'port' | 'user'>,
  ports: Ports,
  dynamicConfigFile: string,
): string {
  const datastore = (database: string, maxConns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${pg.host}:${pg.port}"
        connectProtocol: tcp
        user: ${JSON.stringify(pg.user)}
        password: {{ env "${PASSWORD_ENV}" | quote }}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, http?: number) => `
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  return `# enable-template: the database password comes from the environment (${PASSWORD_ENV})
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:${datastore('temporal', 20)}
    visibility:${datastore('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${HOST}
services:
  frontend:${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  history:${service(ports.history, ports.historyMembership)}
  matching:${service(ports.matching, ports.matchingMembership)}
  worker:${service(ports.worker, ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: ${HOST}:${ports.frontend}
dcRedirectionPolicy:
  policy: noop
archival:
  history:
    state: disabled
  visibility:
    state: disabled
namespaceDefaults:
  archival:
    history:
      state: disabled
    visibility:
      state: disabled
dynamicConfigClient:
  filepath: ${JSON.stringify(dynamicConfigFile)}
  pollInterval: 10s
`;
}

/** Search attributes added through the operator API are usable at once, without waiting for a cache refresh. */
export const DYNAMIC_CONFIG = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
    constraints: {}
`;

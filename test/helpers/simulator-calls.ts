import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/server';

/** Keys the simulator suites start their simulators with. */
export const SIM_TEST_KEYS = { official: 'sk-test-official', relay: 'sk-test-relay' };

export interface SimReply {
  status: number;
  headers: Headers;
  /** The raw body, for answers that are not JSON (malformed-body drills). */
  text: string;
  /** The parsed body; `{}` when empty or not JSON. */
  json: Record<string, unknown>;
}

export interface CallOptions {
  /** JSON, or a FormData sent as multipart. */
  body?: unknown;
  /** The key to send; default the contract's test key, `null` for none. */
  key?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** One raw HTTP call to a simulator, authorised for the contract its path belongs to. */
export async function callSimulator(
  sim: RunningSimulator,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<SimReply> {
  const key =
    opts.key === undefined ? (path.startsWith('/v1') ? SIM_TEST_KEYS.official : SIM_TEST_KEYS.relay) : opts.key;
  const headers: Record<string, string> = {
    ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    ...opts.headers,
  };
  let body: string | FormData | undefined;
  if (opts.body instanceof FormData) body = opts.body;
  else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const response = await fetch(`${sim.url}${path}`, { method, headers, body, signal: opts.signal });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    if (text) json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: `text` has it
  }
  // headers and text ride along non-enumerable, so `toEqual({ status, json })` compares what matters.
  return Object.defineProperties({ status: response.status, json } as SimReply, {
    headers: { value: response.headers },
    text: { value: text },
  });
}

export const errorCodeOf = (reply: SimReply): unknown => (reply.json.error as { code?: unknown } | undefined)?.code;

/** Starts simulators for one test file and closes them after each test, even a failing one. */
export function simulatorsPerTest(
  defaults: Partial<SimulatorOptions> = {},
): (options?: Partial<SimulatorOptions>) => Promise<RunningSimulator> {
  const started: RunningSimulator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((sim) => sim.close()));
  });
  return async (options = {}) => {
    const sim = await startSimulator({ keys: SIM_TEST_KEYS, ...defaults, ...options });
    started.push(sim);
    return sim;
  };
}

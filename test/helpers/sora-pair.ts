import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProviderConfig, type ProvidersConfig } from '../../activities/providers/config';
import { simulatorProviderEntries } from '../../activities/providers/simulator-entries';
import type { RunningSimulator } from '../../simulator/server';

/**
 * The pair the product was built on (a relay, then the official contract) on the simulator's
 * twins: for suites about relay or official behaviour itself, now that the default chain is live
 * contracts. `startHarness({ providers: relayAndOfficial })`.
 */
export function relayAndOfficial(
  sim: Pick<RunningSimulator, 'url'>,
  tuning: { timeoutMs?: number } = {},
): ProvidersConfig {
  return parseProviderConfig(
    { providers: simulatorProviderEntries(sim.url, ['relay', 'official'], tuning) },
    'relay+official provider config',
  );
}

/** The same pair as a providers file in `dir`, for worker and CLI processes: `SORA_SERIES_PROVIDERS=<path>`. */
export async function relayAndOfficialFile(simulatorUrl: string, dir: string): Promise<string> {
  const path = join(dir, 'providers-relay-official.json');
  await writeFile(path, JSON.stringify({ providers: simulatorProviderEntries(simulatorUrl, ['relay', 'official']) }));
  return path;
}

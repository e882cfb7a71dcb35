import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProviderConfig, type ProvidersConfig } from '../../activities/providers/config';
import type { ProviderConfigInput } from '../../activities/providers/config-schema';
import { referenceStills } from '../../activities/stills';
import type { LocalFile } from '../../activities/providers/provider';
import type { RunningSimulator } from '../../simulator/server';

export const SEEDANCE = 'bytedance/seedance-2.0/reference-to-video';

/** A fal provider entry on the simulator's fal twin. */
export function falEntry(
  sim: Pick<RunningSimulator, 'fal'>,
  overrides: Partial<ProviderConfigInput['providers'][number]> = {},
): ProviderConfigInput['providers'][number] {
  return {
    name: 'fal',
    contract: 'fal',
    baseUrl: sim.fal.queueUrl,
    keyEnv: 'SORA_FAL_KEY',
    model: SEEDANCE,
    ...overrides,
    fal: { storageUrl: sim.fal.storageUrl, platformUrl: sim.fal.platformUrl, ...overrides.fal },
  };
}

export function falConfig(
  sim: Pick<RunningSimulator, 'fal'>,
  ...entries: Array<Parameters<typeof falEntry>[1]>
): ProvidersConfig {
  return parseProviderConfig({ providers: (entries.length ? entries : [{}]).map((e) => falEntry(sim, e)) });
}

/** The simulator's source clip of `name`, and its reference stills as the worker makes them. */
export async function stillsOf(simUrl: string, dir: string, name = 'mira.mp4'): Promise<LocalFile[]> {
  const bytes = Buffer.from(await (await fetch(`${simUrl}/clips/${name}`)).arrayBuffer());
  const path = join(dir, name);
  await writeFile(path, bytes);
  return referenceStills({ path, sha256: createHash('sha256').update(bytes).digest('hex') }, join(dir, 'stills'));
}

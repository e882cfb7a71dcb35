import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceStills } from '../activities/stills';
import { sha256OfFile } from '../common/file-hash';
import { SIMULATOR_KEYS } from '../client/stack/dev-stack';
import { startSimulator } from '../simulator/server';

/** Reference stills are made once per clip, also when many takes ask for them at the same moment. */
test("takes asking for one clip's stills at once share one run, and later takes read its index", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sora-series-stills-'));
  const sim = await startSimulator({
    port: 0,
    keys: { official: SIMULATOR_KEYS.SORA_OFFICIAL_KEY, relay: SIMULATOR_KEYS.SORA_RELAY_KEY },
  });
  try {
    const path = join(dir, 'mira.mp4');
    await writeFile(path, Buffer.from(await (await fetch(`${sim.url}/clips/mira.mp4`)).arrayBuffer()));
    const clip = { path, sha256: await sha256OfFile(path) };
    const asked = Array.from({ length: 20 }, () => referenceStills(clip, join(dir, 'stills')));
    expect(new Set(asked).size).toBe(1);
    const [stills] = await Promise.all(asked);
    expect(stills).toHaveLength(3);
    expect(await referenceStills(clip, join(dir, 'stills'))).toEqual(stills);
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);

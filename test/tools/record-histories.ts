/**
 * Records the histories the replay test checks new workflow code against. Run after a
 * deliberate, patched() workflow change: `npm run record-histories` (then commit the files).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSeries } from '../../client/series-client';
import { startHarness, temporalAddress, type Harness } from '../helpers/harness';
import { seriesInput } from '../helpers/specs';

const DIR = join(__dirname, '..', 'fixtures', 'histories');

describe('record workflow histories', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function record(label: string, prepare: () => void, scenes: number, reject?: number) {
    prepare();
    const input = seriesInput(h.sim.url, {}, scenes);
    if (reject) input.scenes[reject - 1].prompt = '@character does something FORBIDDEN';
    const handle = await startSeries(h.client, input, { taskQueue: h.taskQueue });
    await handle.result();
    // The CLI writes the same JSON the Web UI downloads, which historyFromJSON reads back.
    const save = async (id: string, file: string) => {
      const { stdout } = await promisify(execFile)(process.env.TEMPORAL_CLI_PATH!, [
        'workflow', 'show', '--workflow-id', id, '--address', temporalAddress(), '--output', 'json',
      ]);
      await writeFile(join(DIR, file), JSON.stringify({ workflowId: id, history: JSON.parse(stdout) }) + '\n');
    };
    await save(handle.workflowId, `${label}.series.json`);
    await save(`${handle.workflowId}/scene-1`, `${label}.scene.json`);
  }

  test('happy path, relay down (fallback with character signals), rejected scene', async () => {
    await record('happy', () => h.sim.setScenario({}), 3);
    await record('relay-down', () => h.sim.setScenario({ contracts: { 'relay-v1': { down: { status: 403, afterCalls: 2 } } } }), 4);
    await record('rejected', () => h.sim.setScenario({ rejectWord: 'FORBIDDEN' }), 2, 1);
  });
});

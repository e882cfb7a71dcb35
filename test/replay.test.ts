import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/harness';

/**
 * Workflow code must replay every recorded history: a change that breaks determinism fails
 * here before it can break running series. Change workflows through patched().
 */
const DIR = join(__dirname, 'fixtures', 'histories');

describe('replay of recorded histories', () => {
  test('every recorded history replays on the current workflow code', async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(6);
    const bundle = await workflowBundle();
    for (const file of files) {
      // `history` as `temporal workflow show --output json` writes it; the replayer decodes it.
      const { workflowId, history } = JSON.parse(await readFile(join(DIR, file), 'utf8')) as {
        workflowId: string;
        history: unknown;
      };
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId)).resolves.toBeUndefined();
    }
  });
});

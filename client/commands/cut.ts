import { copyFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { NothingToCutError } from '../../workflows/episode-request';
import { connectClient } from '../series/connect';
import { cutEpisode, EpisodeCutFailedError, type CutEpisode } from '../series/episode';
import { resolveSeriesId } from '../series/series-id';
import { JSON_OPTION, type CommandSpec } from './command';

/** `sora-series cut <id>`: the episode of the series' chosen takes, made once per set of takes. */
export const cutCommand: CommandSpec = {
  summary: 'join the chosen take of every completed scene into one MP4, with a contact sheet and posters',
  details:
    'Running or finished: the scenes done so far, each by its approved take (else its latest completed one), in ' +
    'scene order. The same takes are cut once (the series cuts its own as it ends): asking again answers the same ' +
    'files, a retake or another approved take makes a new episode. Prints `episode: <path>` (files are in the ' +
    "worker's data directory; --out copies the episode from there, so it must be readable here). " +
    'Exit 1 when no scene has a completed take yet, or the cut failed (its reason is printed).',
  args: ['id'],
  options: {
    out: { type: 'string', value: 'FILE', help: 'copy the episode MP4 to FILE' },
    json: JSON_OPTION,
  },
  async run({ args, values, print }) {
    const id = resolveSeriesId(args[0]);
    const out = values.out === undefined ? undefined : resolve(values.out as string);
    const { client, close } = await connectClient();
    let cut: CutEpisode;
    try {
      cut = await cutEpisode(client, id);
    } catch (err) {
      if (!(err instanceof NothingToCutError || err instanceof EpisodeCutFailedError)) throw err;
      process.stderr.write(`sora-series: ${err.name}: ${err.message}\n`);
      return 1;
    } finally {
      await close();
    }
    if (out) await copyFile(cut.episode.path, out);
    print(values.json ? JSON.stringify({ ...cut, ...(out ? { copiedTo: out } : {}) }) : formatCut(cut, out));
    return 0;
  },
};

export function formatCut(cut: CutEpisode, out?: string): string {
  const { episode, contactSheet, posters } = cut;
  const joined = episode.joined === 'concat' ? 'joined as they are' : 'normalised and joined';
  return [
    `episode: ${episode.path}`,
    `  ${episode.seconds.toFixed(1)} s, ${episode.width}x${episode.height}, ${episode.scenes.length} scenes ${joined}: ` +
      episode.scenes.map((s) => `${s.index} (take ${s.take}, ${s.provider})`).join(', '),
    `  sha256 ${episode.sha256}, ${episode.bytes} bytes, cut by ${cut.id}`,
    `contact sheet: ${contactSheet.path}`,
    `posters: ${posters.length}, one per scene, in ${dirname(contactSheet.path)} (--json names each)`,
    ...(out ? [`copied to ${out}`] : []),
  ].join('\n');
}

import type { Client } from '@temporalio/client';
import {
  addScenes,
  cancelSeries,
  endOfScenes,
  pauseSeries,
  raiseBudget,
  resumeSeries,
  retryScene,
  reviewTake,
  setRouting,
} from '../series/steering';
import { validateSpecFile } from '../spec/validate';
import { MAX_REVIEW_NOTE_CHARS } from '../../workflows/scene-rules';
import { appendToSeries, formatAppended } from './append-to-series';
import { positiveInt, positiveNumber, readScenesFile, routingPolicy } from './args';
import { resolveSeriesId } from '../series/series-id';
import type { OptionSpec } from './command';
import { printed, steeringCommands, stringOption, type SteeringCommand } from './steering-command';

/**
 * The commands that send a running series a message, built on client/series/steering.ts (the
 * one place messages are sent). Signals are fire-and-forget, so their lines say what was sent
 * and what follows; updates answer, so theirs show the answer.
 */

export const SIGNAL_EFFECTS = {
  pause: 'it starts no new scenes or takes until resumed; running jobs go on',
  resume: 'it starts scenes and takes again',
  cancel: 'no new submissions; running jobs finish, are stored and paid, then the series ends cancelled',
  endOfScenes: 'the streaming series ends once its scenes are done',
} as const;

export const signalSent = (what: keyof typeof SIGNAL_EFFECTS, id: string) =>
  `${what} sent to ${id}: ${SIGNAL_EFFECTS[what]}`;

const REASON: Record<string, OptionSpec> = { reason: { type: 'string', value: 'R', help: 'why, shown by watch' } };

function signalCommand(
  signal: keyof typeof SIGNAL_EFFECTS,
  def: Pick<SteeringCommand, 'summary' | 'details'> & {
    withReason?: boolean;
    send(client: Client, id: string, reason?: string): Promise<void>;
  },
): SteeringCommand {
  const { withReason, send, ...described } = def;
  return {
    ...described,
    args: ['id'],
    ...(withReason ? { options: REASON } : {}),
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      await send(await ctx.connect(), id, stringOption(ctx.values, 'reason'));
      return printed(ctx, { id, sent: signal }, signalSent(signal, id));
    },
  };
}

function reviewCommand(verdict: 'approve' | 'reject', summary: string): SteeringCommand {
  return {
    summary,
    args: ['id', 'scene', 'take'],
    options: {
      note: {
        type: 'string',
        value: 'N',
        help: `a review note, kept with the take (up to ${MAX_REVIEW_NOTE_CHARS} characters)`,
      },
    },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const [index, take, note] = [
        positiveInt('<scene>', ctx.args[1]),
        positiveInt('<take>', ctx.args[2]),
        stringOption(ctx.values, 'note'),
      ];
      const answer = await reviewTake(await ctx.connect(), id, {
        index,
        take,
        verdict,
        ...(note !== undefined ? { note } : {}),
      });
      return printed(
        ctx,
        { id, ...answer },
        `scene ${answer.index} take ${answer.take} of ${id}: ${answer.verdict === 'approve' ? 'approved' : 'rejected'}`,
      );
    },
  };
}

/** Steering running series by message, for the CLI's command table. */
export const MESSAGE_COMMANDS = steeringCommands({
  pause: signalCommand('pause', {
    summary: 'start no new scenes or takes until resumed; running jobs go on',
    withReason: true,
    send: pauseSeries,
  }),
  resume: signalCommand('resume', { summary: 'undo pause', send: (client, id) => resumeSeries(client, id) }),
  cancel: signalCommand('cancel', {
    summary: 'stop gracefully: nothing new is submitted, running jobs finish and are paid',
    details: 'The series ends cancelled once its running jobs are stored.',
    withReason: true,
    send: cancelSeries,
  }),
  'add-scenes': {
    summary: 'add scenes to a running series; prints their indexes',
    args: ['id', 'scenes file'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const scenes = await readScenesFile(ctx.args[1]);
      const { indexes } = await addScenes(await ctx.connect(), id, scenes);
      return printed(ctx, { id, indexes }, `added to ${id}: scene ${indexes.join(', ')}`);
    },
  },
  append: {
    summary: 'append scenes, starting the series (streaming) from the spec if it does not run',
    details: 'Signal-with-start: one call whether or not the series runs. A series that already ended is refused.',
    args: ['spec', 'scenes file'],
    options: { id: { type: 'string', value: 'ID', help: 'the workflow id (default series/<name of the spec>)' } },
    async run(ctx) {
      const { input, profiles } = await validateSpecFile(ctx.args[0]);
      const scenes = await readScenesFile(ctx.args[1]);
      const id = ctx.values.id === undefined ? undefined : resolveSeriesId(stringOption(ctx.values, 'id')!);
      const client = await ctx.connect();
      const appended = await appendToSeries(client, {
        input,
        scenes,
        taskQueue: ctx.settings().taskQueue,
        workflowId: id,
        profiles,
      });
      return printed(ctx, appended, formatAppended(appended));
    },
  },
  'end-scenes': signalCommand('endOfScenes', {
    summary: 'a streaming series gets no more scenes: it ends when they are done',
    send: (client, id) => endOfScenes(client, id),
  }),
  retry: {
    summary: 'a new take of a finished scene; earlier takes are kept',
    args: ['id', 'scene'],
    options: {
      prompt: { type: 'string', value: 'P', help: 'a new prompt for this take' },
      provider: { type: 'string', value: 'NAME', help: 'the provider for this take' },
    },
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const [index, prompt, provider] = [
        positiveInt('<scene>', ctx.args[1]),
        stringOption(ctx.values, 'prompt'),
        stringOption(ctx.values, 'provider'),
      ];
      const answer = await retryScene(await ctx.connect(), id, {
        index,
        ...(prompt !== undefined ? { prompt } : {}),
        ...(provider !== undefined ? { provider } : {}),
      });
      return printed(ctx, { id, ...answer }, `scene ${answer.index} of ${id} queued for a new take`);
    },
  },
  approve: reviewCommand('approve', 'approve a completed take'),
  reject: reviewCommand('reject', 'reject a completed take (retry the scene for another)'),
  routing: {
    summary: 'the routing policy for scenes not yet started; prints the previous one',
    args: ['id', 'policy'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const policy = routingPolicy(ctx.args[1]);
      const answer = await setRouting(await ctx.connect(), id, policy);
      return printed(ctx, { id, ...answer }, `routing of ${id}: ${answer.routing} (was ${answer.previous})`);
    },
  },
  budget: {
    summary: 'raise the budget; a series paused by its budget goes on',
    args: ['id', 'usd'],
    async run(ctx) {
      const id = resolveSeriesId(ctx.args[0]);
      const budgetUsd = positiveNumber('<usd>', ctx.args[1]);
      const view = await raiseBudget(await ctx.connect(), id, budgetUsd);
      const usd = (n?: number) => (n === undefined ? '-' : `$${n.toFixed(2)}`);
      return printed(
        ctx,
        { id, ...view },
        `budget of ${id}: ${usd(view.budgetUsd)} (spent ${usd(view.spentUsd)}, reserved ${usd(view.reservedUsd)}, remaining ${usd(view.remainingUsd)})`,
      );
    },
  },
});

import { condition } from '@temporalio/workflow';
import { local, transfers, upstream } from '../activities';
import { describeFailure } from '../failure-info';
import { mentionFor } from '../prompt';
import type { CharacterRef, ProviderProfile } from '../types';
import { definitionDifferences } from './definition';
import type {
  CharacterDefinition,
  CharacterHandle,
  CharacterRecord,
  CharacterView,
  HandleAnswer,
  HandleCard,
} from './record';
import { CharacterRefusal, refuseCharacter } from './refusals';

/** A handle the provider keeps revoking is not made again forever: after this many, it stays revoked. */
export const MAX_RECREATIONS = 3;
/** Ended series kept in the record (running ones are always kept): enough to say where it appeared lately. */
const ENDED_USES_KEPT = 100;

export type HandleOutcome = { ref: CharacterRef } | { refused: string } | { unavailable: string };

/**
 * A library character's state and the rules that keep it whole (the manager of Temporal's
 * safe-message-handlers sample): handlers stay thin and change the record only through these
 * methods. One creation per provider is in flight at a time; every asker waits for it.
 */
export class CharacterEntity {
  readonly record: CharacterRecord;
  private profiles: ProviderProfile[] = [];
  /** Set once this run knows the worker's providers (each run asks again). */
  private profilesLoaded = false;
  private readonly making: Record<string, Promise<HandleOutcome>> = {};

  constructor(definition: CharacterDefinition, carried?: CharacterRecord) {
    this.record = carried ?? {
      definition,
      createdAt: Date.now(),
      prepared: false,
      source: { images: [] },
      stills: [],
      handles: {},
      uses: [],
    };
  }

  get name(): string {
    return this.record.definition.name;
  }

  /** Nothing in flight: safe to continue as new. */
  idle(): boolean {
    return Object.keys(this.making).length === 0;
  }

  /** The providers (every run), then once: the source stored, the stills, adopted and extracted handles. */
  async prepare(): Promise<void> {
    this.profiles = await upstream.listProviderProfiles();
    this.profilesLoaded = true;
    const { record } = this;
    if (record.prepared) return;
    const { definition: d } = record;
    try {
      if (d.clip) record.source.clip = await transfers.storeSourceClip({ url: d.clip });
      for (const [index, url] of (d.images ?? []).entries())
        record.source.images.push(await transfers.storeReferenceImage({ url, index }));
      for (const [provider, id] of Object.entries(d.adopt ?? {})) {
        const profile = this.profileOf(provider);
        if (profile)
          record.handles[provider] = this.ready(
            provider,
            { id, mention: mentionFor(profile.contract, id, d.name) },
            'adopted',
            0,
          );
      }
      if (d.extract) {
        const task = { provider: d.extract.provider, taskId: d.extract.taskId };
        const ref = await upstream.extractCharacterRef({ ...task, name: d.name });
        record.handles[task.provider] = this.ready(task.provider, ref, 'extracted', 0);
        record.source.clip ??= await transfers.storeTaskClip(task);
      }
      record.stills = record.source.images.length
        ? record.source.images.map(({ path, sha256 }) => ({ path, sha256 }))
        : record.source.clip
          ? await local.clipStills({ clip: record.source.clip })
          : [];
      record.prepared = true;
    } catch (err) {
      record.invalid = describeFailure(err).message;
    }
  }

  /** Waits for prepare; an invalid character refuses every use. */
  private async usable(): Promise<string | undefined> {
    await condition(() => this.profilesLoaded && (this.record.prepared || !!this.record.invalid));
    return this.record.invalid && `character ${this.name} cannot be used: ${this.record.invalid}`;
  }

  /** The handle on `provider`: the one there is, or made now (once, however many ask meanwhile). */
  async ensure(provider: string, madeFor?: string): Promise<HandleOutcome> {
    const invalid = await this.usable();
    if (invalid) return { refused: invalid };
    const handle = this.record.handles[provider];
    if (handle?.state === 'ready') return { ref: handle.ref! };
    if (handle?.state === 'refused') return { refused: handle.reason! };
    if (handle?.state === 'revoked' && handle.recreations >= MAX_RECREATIONS)
      return { refused: `revoked by ${provider} ${handle.recreations + 1} times (${handle.reason}); not made again` };
    this.making[provider] ??= this.make(provider, madeFor).then((outcome) => {
      delete this.making[provider];
      return outcome;
    });
    return this.making[provider];
  }

  /** The provider revoked `handleId`: made again once, however many series report it. */
  revoked(provider: string, handleId: string, reason: string, reportedBy: string): Promise<HandleOutcome> {
    const handle = this.record.handles[provider];
    if (handle?.state === 'ready' && handle.ref?.id === handleId) {
      handle.state = 'revoked';
      handle.reason = reason;
    }
    return this.ensure(provider, reportedBy);
  }

  private async make(provider: string, madeFor?: string): Promise<HandleOutcome> {
    const { record } = this;
    const previous = record.handles[provider];
    const recreations = previous ? previous.recreations + 1 : 0;
    if (!this.profileOf(provider)) return { refused: `provider "${provider}" is not configured on the worker` };
    const clip = record.source.clip;
    if (!clip) {
      const reason = 'no source clip to make the character from (define it with a clip, or adopt an id here)';
      record.handles[provider] = { ...this.base(provider, 'created', 0), state: 'refused', reason };
      return { refused: reason };
    }
    try {
      const made = await upstream.createCharacterHandle({
        provider,
        name: this.name,
        description: record.definition.description,
        clip,
        stills: record.stills,
      });
      if ('refused' in made) {
        record.handles[provider] = { ...this.base(provider, 'created', 0), state: 'refused', reason: made.refused };
        return made;
      }
      record.handles[provider] = {
        ...this.ready(provider, made.ref, 'created', made.costUsd),
        recreations,
        ...(madeFor ? { madeFor } : {}),
      };
      return { ref: made.ref };
    } catch (err) {
      // Not kept: the provider may be back by the next ask.
      return { unavailable: describeFailure(err).message };
    }
  }

  /** What a series gets: the outcome with the character's description, clip and stills. */
  async answer(provider: string, replyTo: string): Promise<HandleAnswer> {
    const outcome = await this.ensure(provider, replyTo);
    const handle = this.record.handles[provider];
    // The series whose need made the handle is the one that pays for it (the ledger: once).
    const paid = 'ref' in outcome && handle?.madeFor ? { madeFor: handle.madeFor, costUsd: handle.costUsd } : {};
    return { character: this.name, provider, ...this.card(), ...outcome, ...paid };
  }

  card(): HandleCard {
    const { record } = this;
    return {
      description: record.definition.description,
      ...(record.source.clip ? { sourceClip: record.source.clip } : {}),
      stills: record.stills,
    };
  }

  /** An inline definition must be the stored one; answers once the source is stored. */
  async define(given: CharacterDefinition): Promise<CharacterView> {
    const differs = definitionDifferences(this.record.definition, given);
    if (differs.length)
      refuseCharacter(
        CharacterRefusal.definitionDiffers,
        `character "${this.name}" exists with a different ${differs.join(', ')}; use it as it is (sora-series characters show ${this.name}), give the new one another name, or retire ${this.name} first`,
      );
    const invalid = await this.usable();
    if (invalid) refuseCharacter(CharacterRefusal.invalidSource, invalid);
    return this.view();
  }

  /** `characters create --on <provider>`. */
  async handleOn(provider: string): Promise<CharacterHandle> {
    const invalid = await this.usable();
    if (invalid) refuseCharacter(CharacterRefusal.invalidSource, invalid);
    if (!this.profileOf(provider))
      refuseCharacter(
        CharacterRefusal.unknownProvider,
        `provider: "${provider}" is not configured on the worker (configured: ${this.profiles.map((p) => p.name).join(', ')}); pick one of them`,
      );
    const outcome = await this.ensure(provider);
    if ('unavailable' in outcome)
      refuseCharacter(
        CharacterRefusal.providerUnavailable,
        `${provider} could not make the handle now: ${outcome.unavailable}; try again later`,
      );
    return this.record.handles[provider];
  }

  joined(seriesId: string): void {
    const use = this.record.uses.find((u) => u.seriesId === seriesId);
    if (use) use.running = true;
    else this.record.uses.push({ seriesId, since: Date.now(), running: true });
  }

  left(seriesId: string): void {
    const use = this.record.uses.find((u) => u.seriesId === seriesId);
    if (use) use.running = false;
    const ended = this.record.uses.filter((u) => !u.running);
    if (ended.length > ENDED_USES_KEPT)
      this.record.uses = this.record.uses.filter(
        (u) => u.running || ended.indexOf(u) >= ended.length - ENDED_USES_KEPT,
      );
  }

  retire(): CharacterView {
    if (this.record.retired) refuseCharacter(CharacterRefusal.retired, `character ${this.name} is already retired`);
    const running = this.record.uses.filter((u) => u.running).map((u) => u.seriesId);
    if (running.length)
      refuseCharacter(
        CharacterRefusal.inUse,
        `character ${this.name} is used by running series ${running.join(', ')}; wait for them to end or cancel them (sora-series cancel <id>), then retire it`,
        { running },
      );
    this.record.retired = { at: Date.now() };
    return this.view();
  }

  view(): CharacterView {
    const { record } = this;
    const { definition: d } = record;
    const iso = (ms: number) => new Date(ms).toISOString();
    const status = record.retired ? 'retired' : record.invalid ? 'invalid' : record.prepared ? 'active' : 'preparing';
    return {
      name: d.name,
      description: d.description,
      status,
      createdAt: iso(record.createdAt),
      source: {
        ...(record.source.clip ? { clip: { url: record.source.clip.url, sha256: record.source.clip.sha256 } } : {}),
        images: record.source.images.map(({ url, sha256 }) => ({ url, sha256 })),
      },
      stills: record.stills,
      handles: Object.values(record.handles).map((h) => ({ ...h, createdAt: iso(h.createdAt) })),
      series: record.uses.map((u) => ({ id: u.seriesId, running: u.running, since: iso(u.since) })),
      ...(d.adopt ? { adopt: d.adopt } : {}),
      ...(d.extract ? { extract: d.extract } : {}),
      ...(record.invalid ? { invalid: record.invalid } : {}),
    };
  }

  private profileOf(provider: string): ProviderProfile | undefined {
    return this.profiles.find((p) => p.name === provider);
  }

  private base(provider: string, origin: CharacterHandle['origin'], costUsd: number) {
    const previous = this.record.handles[provider];
    return { provider, createdAt: Date.now(), costUsd, origin, recreations: previous ? previous.recreations + 1 : 0 };
  }

  private ready(
    provider: string,
    ref: CharacterRef,
    origin: CharacterHandle['origin'],
    costUsd: number,
  ): CharacterHandle {
    return { ...this.base(provider, origin, costUsd), state: 'ready', ref };
  }
}

import type { CastMember, CharacterSource, SceneSpec, SeriesInput } from '../../workflows/types';
import { toCharacterDefinition } from './character-schema';
import type { SeriesSpec } from './spec-schema';

/**
 * Temporal refuses workflow inputs over 2 MB (and warns from 512 KB); a series also carries its
 * results across continue-as-new, so its input stays well under the limit.
 */
export const MAX_SERIES_INPUT_BYTES = 1024 * 1024;

/** The workflow input: defaults applied, scenes numbered from 1. */
export function toSeriesInput(spec: SeriesSpec): SeriesInput {
  const { character } = spec;
  const scenes: SceneSpec[] = spec.scenes.map((s, i) => ({
    index: i + 1,
    ...(s.id !== undefined ? { id: s.id } : {}),
    prompt: s.prompt,
    seconds: s.seconds ?? spec.defaults.seconds,
    size: s.size ?? spec.defaults.size,
    ...((s.model ?? spec.defaults.model) ? { model: s.model ?? spec.defaults.model } : {}),
    ...(s.provider ? { provider: s.provider } : {}),
  }));
  return {
    name: spec.name,
    ...(character
      ? { character: { name: character.name, description: character.description, source: sourceOf(character) } }
      : {}),
    ...(spec.characters ? { cast: spec.characters.map(castMemberOf) } : {}),
    scenes,
    routing: spec.routing,
    providers: spec.providers,
    ...(spec.maxParallel ? { maxParallel: spec.maxParallel } : {}),
    ...(spec.budgetUsd ? { budgetUsd: spec.budgetUsd } : {}),
    ...(spec.jobDeadlineSeconds ? { jobDeadlineSeconds: spec.jobDeadlineSeconds } : {}),
    ...(spec.circuitCooldownSeconds ? { circuitCooldownSeconds: spec.circuitCooldownSeconds } : {}),
    ...(spec.onRejection ? { onRejection: spec.onRejection } : {}),
    ...(spec.streaming ? { streaming: true } : {}),
    ...(spec.approval === 'required' ? { approval: 'required' as const } : {}),
    defaults: {
      seconds: spec.defaults.seconds,
      size: spec.defaults.size,
      ...(spec.defaults.model ? { model: spec.defaults.model } : {}),
    },
  };
}

function sourceOf(character: NonNullable<SeriesSpec['character']>): CharacterSource {
  if (character.extract)
    return { kind: 'extract', provider: character.extract.provider, taskId: character.extract.task };
  if (character.adopt)
    return { kind: 'adopt', ids: character.adopt, ...(character.clip ? { clipUrl: character.clip } : {}) };
  return { kind: 'clip', url: character.clip! };
}

/** A library name gets its description from the library at start; an inline definition carries its own. */
function castMemberOf(item: NonNullable<SeriesSpec['characters']>[number]): CastMember {
  if (typeof item === 'string') return { name: item, description: '' };
  return { name: item.name, description: item.description, definition: toCharacterDefinition(item) };
}

/** A spec whose workflow input would not fit, as a spec problem. */
export function inputSizeIssues(spec: SeriesSpec): string[] {
  const bytes = Buffer.byteLength(JSON.stringify(toSeriesInput(spec)));
  if (bytes <= MAX_SERIES_INPUT_BYTES) return [];
  return [
    `scenes: the series is ${(bytes / 1024 / 1024).toFixed(1)} MB as workflow input; at most ${MAX_SERIES_INPUT_BYTES / 1024 / 1024} MB fits Temporal's limits: split it into several series or shorten the prompts`,
  ];
}

/**
 * Every workflow id and idempotency key sora-series makes, built and parsed in this one place:
 * series `series/<name>`, scenes `<series id>/scene-<n>`, takes `<scene id>/take-<n>` (the key a
 * provider sees), episodes `<series id>/episode-<cut key>`, and the shared limiter
 * `provider-slots/<task queue>/<provider>`.
 */

const SERIES_PREFIX = 'series/';
const SCENE_ID = /^(.+)\/scene-(\d+)$/;
const TAKE_KEY = /^(.+)\/take-(\d+)$/;
const EPISODE_ID = /^(.+)\/episode-([0-9a-f]+)$/;

export const seriesWorkflowId = (name: string): string => `${SERIES_PREFIX}${name}`;

/** What a series workflow id looks like: `series/` and a name without whitespace. */
export const SERIES_WORKFLOW_ID = new RegExp(`^${SERIES_PREFIX}\\S+$`);

/** A series name (`harbor-tales`) or a whole workflow id (`series/harbor-tales`): ids contain a slash. */
export const seriesIdOf = (nameOrId: string): string =>
  nameOrId.includes('/') ? nameOrId : seriesWorkflowId(nameOrId);

export const sceneWorkflowId = (seriesId: string, index: number): string => `${seriesId}/scene-${index}`;

/** The series and scene of a scene workflow id, or undefined for any other id. */
export function parseSceneWorkflowId(workflowId: string): { seriesId: string; index: number } | undefined {
  const match = SCENE_ID.exec(workflowId);
  return match ? { seriesId: match[1], index: Number(match[2]) } : undefined;
}

/** One cut of a series: `cutKey` names the takes it joins (workflows/episode-request.ts). */
export const episodeWorkflowId = (seriesId: string, cutKey: string): string => `${seriesId}/episode-${cutKey}`;

/** The series and cut key of an episode workflow id, or undefined for any other id. */
export function parseEpisodeWorkflowId(workflowId: string): { seriesId: string; cutKey: string } | undefined {
  const match = EPISODE_ID.exec(workflowId);
  return match ? { seriesId: match[1], cutKey: match[2] } : undefined;
}

/** What a series calls a scene's slot at the shared limiter. */
export const sceneSlotKey = (index: number): string => `scene-${index}`;

/** The idempotency key of a take: one paid upstream job per key. */
export const takeIdempotencyKey = (sceneId: string, take: number): string => `${sceneId}/take-${take}`;

export function parseTakeIdempotencyKey(key: string): { sceneId: string; take: number } | undefined {
  const match = TAKE_KEY.exec(key);
  return match ? { sceneId: match[1], take: Number(match[2]) } : undefined;
}

/** Per task queue: deployments sharing a namespace keep their own limits. */
export const providerSlotsWorkflowId = (taskQueue: string, provider: string): string =>
  `provider-slots/${taskQueue}/${provider}`;

const CHARACTER_PREFIX = 'character/';

/** A library character: `character/<name>`. */
export const characterWorkflowId = (name: string): string => `${CHARACTER_PREFIX}${name}`;

/** The name in a character workflow id, or undefined for any other id. */
export const parseCharacterWorkflowId = (workflowId: string): string | undefined =>
  workflowId.startsWith(CHARACTER_PREFIX) ? workflowId.slice(CHARACTER_PREFIX.length) : undefined;

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes; `dev` registers them, real servers need `temporal operator search-attribute create`. */
export const SeriesName = defineSearchAttributeKey('SeriesName', SearchAttributeType.KEYWORD);
export const SeriesCharacter = defineSearchAttributeKey('SeriesCharacter', SearchAttributeType.KEYWORD);
export const SeriesStatusKey = defineSearchAttributeKey('SeriesStatus', SearchAttributeType.KEYWORD);
export const ScenesDone = defineSearchAttributeKey('ScenesDone', SearchAttributeType.INT);
export const ScenesTotal = defineSearchAttributeKey('ScenesTotal', SearchAttributeType.INT);
export const SeriesCostUsd = defineSearchAttributeKey('SeriesCostUsd', SearchAttributeType.DOUBLE);
export const ProvidersUsed = defineSearchAttributeKey('ProvidersUsed', SearchAttributeType.KEYWORD_LIST);
/** On scene workflows: their series' workflow id, their index, and every upstream job id their takes got (the webhook gateway finds the waiting scene by it). */
export const SeriesId = defineSearchAttributeKey('SeriesId', SearchAttributeType.KEYWORD);
export const SceneIndex = defineSearchAttributeKey('SceneIndex', SearchAttributeType.INT);
export const SceneJobIds = defineSearchAttributeKey('SceneJobIds', SearchAttributeType.KEYWORD_LIST);
/** On series and scene workflows (and a character's own): the library characters they use, so the Web UI finds every appearance. */
export const Characters = defineSearchAttributeKey('Characters', SearchAttributeType.KEYWORD_LIST);

export const allSearchAttributes = [
  SeriesName,
  SeriesCharacter,
  SeriesStatusKey,
  ScenesDone,
  ScenesTotal,
  SeriesCostUsd,
  ProvidersUsed,
  SeriesId,
  SceneIndex,
  SceneJobIds,
  Characters,
];

/** Type names as `temporal server start-dev --search-attribute Name=Type` spells them. */
export const cliTypeNames: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

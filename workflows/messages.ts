import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CharacterRef, SceneResult, SeriesStatus } from './types';

/** A scene asks its series for the character on a provider it falls back to. */
export interface CharacterNeeded {
  provider: string;
  sceneWorkflowId: string;
}

/** The series' answer: the provider's reference, or why the character cannot be there. */
export type CharacterAnswer =
  | { provider: string; ref: CharacterRef }
  | { provider: string; refused: string }
  | { provider: string; unavailable: string };

export const characterNeededSignal = defineSignal<[CharacterNeeded]>('characterNeeded');
export const characterReadySignal = defineSignal<[CharacterAnswer]>('characterReady');

export interface SeriesStatusView {
  name: string;
  status: SeriesStatus;
  scenesTotal: number;
  scenesDone: number;
  running: number[];
  costUsd: number;
  providerHealth: Record<string, 'up' | 'down'>;
  /** Open circuits: providers found unavailable, since when (ms) and why. */
  circuits: Record<string, { since: number; reason: string }>;
  character: { name: string; providers: string[]; refused: Record<string, string> };
  scenes: SceneResult[];
  manifestPath?: string;
}

export interface SceneStatusView {
  index: number;
  provider?: string;
  take: number;
  phase: 'routing' | 'waiting_for_character' | 'submitting' | 'generating' | 'storing' | 'done';
}

export const seriesStatusQuery = defineQuery<SeriesStatusView>('status');
export const sceneStatusQuery = defineQuery<SceneStatusView>('sceneStatus');

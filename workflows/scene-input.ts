import type { CharacterPassport, SceneSpec } from './types';

/** What a series starts a scene with. */
export interface SceneInput {
  /** Parent series workflow id, asked for character references and for money for further takes. */
  seriesWorkflowId: string;
  scene: SceneSpec;
  /** Ordered provider chain chosen by routing. */
  chain: string[];
  passport: CharacterPassport;
  /** Takes tried on one provider before moving to the next (stuck or failed jobs). */
  takesPerProvider?: number;
  /** A job not finished by then is given up and becomes a new take. */
  jobDeadlineSeconds?: number;
  /** Price of one take per provider of the chain; optional, as scene inputs in histories without budgets lack it. */
  prices?: Record<string, number>;
  /** What the series reserved for this scene when it started it: the first take needs no asking. */
  grantedUsd?: number;
  /** Number of this run's first take (a retake continues the scene's numbering, so keys stay unique). */
  firstTake?: number;
  /** Library characters the prompt names (`@<name>` tokens), with their handles so far; unset: the one-character form. */
  cast?: Array<{ token: string; passport: CharacterPassport }>;
  /** Characters one take holds, per provider of the chain (with `cast`). */
  characterLimits?: Record<string, number>;
}

/**
 * The `fal` contract: fal.ai's queue API driving a reference-to-video model (Seedance 2.0, Kling
 * O3, Veo 3.1, Gemini Omni; the model id is the provider's config). A character is held by its
 * reference stills, uploaded once to fal storage (`hold: referenced`). Plain fetch throughout:
 * `@fal-ai/client` retries a submit on 429/5xx/network errors by itself, which could buy a take
 * twice, and is not installed here anyway.
 *
 * At most once per take, as far as fal allows: submit has no idempotency key, so a submit whose
 * answer was lost is looked up in fal's request list and never sent again blindly
 * (FalSubmitUncertainError when the list does not show it), and a retried attempt looks the take
 * up first (`findJob`). Results live an hour: `download` fetches them straight away.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { ProviderProfile } from '../../workflows/types';
import { ProviderError } from './errors';
import type { ResolvedFalSettings } from './fal-config';
import { FAL_OBJECT_LIFETIME_SECONDS } from './fal-config';
import { falJobFailure, FalSubmitUncertainError, readFalError } from './fal-errors';
import { FalAnswerLostError, FalHttp, type FalAnswer } from './fal-http';
import { falAppOf, falCastOf, falModel, type FalModel } from './fal-models';
import { FalStorage } from './fal-storage';
import { renderMentions } from './mentions';
import { otherModelReason, refuseUnsupported, unsupportedReason } from './request-checks';
import type { AccountCheck, CreatedCharacter, JobState, JobStatus, SubmitRequest, VideoProvider } from './provider';
import { fetchAsset } from './asset-download';

export interface FalOptions {
  profile: ProviderProfile;
  /** The queue host, e.g. `https://queue.fal.run`. */
  baseUrl: string;
  apiKey: string;
  /** `owner/app/path` of a reference-to-video model (fal-models.ts). */
  model: string;
  timeoutMs: number;
  settings: ResolvedFalSettings;
}

const submitted = z.object({ request_id: z.string().min(1), status: z.string().nullish() });
const statusBody = z.object({
  // fal's clients know only IN_QUEUE, IN_PROGRESS, COMPLETED; anything else is read as finished
  status: z.string().min(1),
  error: z.string().nullish(),
  error_type: z.string().nullish(),
});
const resultBody = z.object({ video: z.object({ url: z.url({ protocol: /^https?$/ }) }) });
const requestList = z.object({
  items: z.array(
    z.object({ request_id: z.string().min(1), sent_at: z.string().nullish(), json_input: z.unknown().optional() }),
  ),
  next_cursor: z.string().nullish(),
  has_more: z.boolean().nullish(),
});

const STATE_BY_STATUS: Record<string, JobState> = { IN_QUEUE: 'queued', IN_PROGRESS: 'running' };
/** Pages of the request list read when looking a take up (100 requests a page). */
const MAX_LIST_PAGES = 5;
/** Clock skew allowed between fal's `sent_at` and ours. */
const LIST_SLACK_MS = 5_000;

/** fal reports no progress: a running request is shown half-way. */
const RUNNING_PROGRESS = 50;

export class FalProvider implements VideoProvider {
  readonly contract = 'fal' as const;
  readonly name: string;
  readonly profile: ProviderProfile;
  readonly #model: FalModel;
  readonly #modelId: string;
  readonly #queueUrl: string;
  readonly #settings: ResolvedFalSettings;
  readonly #http: FalHttp;
  readonly #storage: FalStorage;
  readonly #timeoutMs: number;

  constructor(options: FalOptions) {
    const model = falModel(options.model);
    if (!model) throw new Error(`fal provider ${options.profile.name}: unknown model ${options.model}`);
    this.profile = options.profile;
    this.name = options.profile.name;
    this.#model = model;
    this.#modelId = options.model;
    this.#queueUrl = options.baseUrl.replace(/\/+$/, '');
    this.#settings = options.settings;
    this.#timeoutMs = options.timeoutMs;
    this.#http = new FalHttp(this.name, options.apiKey, options.timeoutMs);
    this.#storage = new FalStorage(this.name, options.settings.storageUrl, this.#http, options.timeoutMs);
  }

  /** The stills, uploaded to fal storage: the handle is their URLs (fal keeps no character object). */
  async createCharacter(input: Parameters<VideoProvider['createCharacter']>[0]): Promise<CreatedCharacter> {
    const stills = input.stills.slice(0, this.#model.maxImagesPerCharacter);
    if (stills.length < this.#model.minImagesPerCharacter) {
      throw new ProviderError({
        kind: 'invalid',
        code: 'too_few_stills',
        provider: this.name,
        message: `${this.name}: ${this.#modelId} needs at least ${this.#model.minImagesPerCharacter} reference stills of the character, got ${stills.length}`,
      });
    }
    const references = await this.#storage.upload(stills);
    return { id: handleIdOf(references), mention: input.name, hold: 'referenced', references };
  }

  async submit(request: SubmitRequest): Promise<{ jobId: string }> {
    this.#checkSupported(request);
    const { body, references } = this.#input(request);
    await this.#storage.ensureAlive(references);
    const sentAt = new Date();
    try {
      const { request_id } = await this.#http.json(
        {
          method: 'POST',
          url: this.#submitUrl(),
          what: 'submit',
          schema: submitted,
          body,
          headers: {
            // generated files outlive the hour we need them for, whatever the account's default
            'X-Fal-Object-Lifecycle-Preference': JSON.stringify({
              expiration_duration_seconds: FAL_OBJECT_LIFETIME_SECONDS,
            }),
            // the price is this model's: no rerouting to an "equivalent" one
            'x-app-fal-disable-fallback': 'true',
          },
        },
        true,
      );
      return { jobId: request_id };
    } catch (err) {
      if (err instanceof FalAnswerLostError) return { jobId: await this.#afterLostAnswer(body, sentAt, err.reason) };
      // a 504 on submit may mean the request was queued all the same (contracts/fal-queue.md §6)
      if (err instanceof ProviderError && err.status === 504)
        return { jobId: await this.#afterLostAnswer(body, sentAt, 'HTTP 504 on submit') };
      throw err;
    }
  }

  /** The request an earlier attempt of this take made, from fal's request list (same input, sent since `notBefore`). */
  async findJob(request: SubmitRequest, notBefore: Date): Promise<string | undefined> {
    this.#checkSupported(request);
    return this.#findRequest(this.#input(request).body, notBefore);
  }

  /** The request list costs nothing and needs a valid key; a locked account (exhausted balance) answers 403. */
  async checkAccount(): Promise<AccountCheck> {
    const query = new URLSearchParams({ endpoint_id: this.#modelId, limit: '1' });
    try {
      await this.#http.json({
        method: 'GET',
        url: `${this.#settings.platformUrl}/models/requests/by-endpoint?${query}`,
        what: 'request list',
        schema: requestList,
      });
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'balance_exhausted')
        return { canPay: false, detail: err.message };
      throw err;
    }
    return { canPay: true };
  }

  async getJob(jobId: string): Promise<JobStatus> {
    const status = await this.#http.json({
      method: 'GET',
      url: `${this.#requestUrl(jobId)}/status?logs=0`,
      what: 'request status',
      schema: statusBody,
      addressesId: true,
    });
    const state = STATE_BY_STATUS[status.status];
    if (state) return { jobId, state, progress: state === 'running' ? RUNNING_PROGRESS : 0 };
    if (status.error || status.error_type) {
      const read = readFalError({ detail: status.error ?? status.error_type, error_type: status.error_type });
      return { jobId, state: 'failed', progress: 100, error: falJobFailure(undefined, read) };
    }
    // COMPLETED says nothing about success: a model's refusal shows only on the result.
    const answer = await this.#result(jobId);
    if (answer.status >= 200 && answer.status <= 299) {
      this.#http.parse({ what: 'request result', schema: resultBody }, answer);
      return { jobId, state: 'completed', progress: 100 };
    }
    if (answer.status === 400 && /in progress/i.test(answer.text))
      return { jobId, state: 'running', progress: RUNNING_PROGRESS };
    return { jobId, state: 'failed', progress: 100, error: this.#resultFailure(answer) };
  }

  async download(jobId: string): Promise<AsyncIterable<Uint8Array>> {
    const answer = await this.#result(jobId);
    if (answer.status === 404) {
      throw new ProviderError({
        kind: 'invalid',
        code: 'result_expired',
        provider: this.name,
        status: 404,
        message: `${this.name}: the result of request ${jobId} is gone (fal keeps results for an hour after completion)`,
      });
    }
    if (answer.status < 200 || answer.status > 299) throw this.#http.failure({ addressesId: true }, answer);
    const { video } = this.#http.parse({ what: 'request result', schema: resultBody }, answer);
    // fal's CDN URLs are public: the key never goes with them
    return fetchAsset({ provider: this.name, url: video.url, timeoutMs: this.#timeoutMs });
  }

  /** The model input and the reference URLs it names, for the characters this model can hold. */
  #input(request: SubmitRequest): { body: Record<string, unknown>; references: string[] } {
    const cast = falCastOf(request, this.#model);
    if (cast.members.length === 0) {
      throw new ProviderError({
        kind: 'invalid',
        code: 'no_references',
        provider: this.name,
        message: `${this.name}: ${this.#modelId} is a reference-to-video model and the take has no character references on it; create the character on ${this.name} first`,
      });
    }
    const prompt = request.characters
      ? renderMentions(request.prompt, request.characters, (c) => cast.mentions.get(c))
      : request.prompt;
    const input = { prompt, seconds: request.seconds, size: request.size, generateAudio: this.#settings.generateAudio };
    return {
      body: this.#model.body(input, cast.members),
      references: cast.members.flatMap((m) => m.references),
    };
  }

  async #afterLostAnswer(body: Record<string, unknown>, sentAt: Date, reason: string): Promise<string> {
    let found: string | undefined;
    try {
      found = await this.#findRequest(body, sentAt);
    } catch {
      found = undefined; // the list failing too proves nothing either way
    }
    if (found) return found;
    throw new FalSubmitUncertainError(this.name, reason);
  }

  async #findRequest(body: Record<string, unknown>, notBefore: Date): Promise<string | undefined> {
    const start = new Date(notBefore.getTime() - LIST_SLACK_MS).toISOString();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const query = new URLSearchParams({ endpoint_id: this.#modelId, start, expand: 'payloads', limit: '100' });
      if (cursor) query.set('cursor', cursor);
      const list = await this.#http.json({
        method: 'GET',
        url: `${this.#settings.platformUrl}/models/requests/by-endpoint?${query}`,
        what: 'request list',
        schema: requestList,
      });
      const match = list.items.find((item) => isDeepStrictEqual(item.json_input, body));
      if (match) return match.request_id;
      if (!list.has_more || !list.next_cursor) return undefined;
      cursor = list.next_cursor;
    }
    return undefined;
  }

  #result(jobId: string): Promise<FalAnswer> {
    return this.#http.send({ method: 'GET', url: this.#requestUrl(jobId), what: 'request result', addressesId: true });
  }

  /** A finished request's error answer: the model's (its failure) or the HTTP layer's (thrown). */
  #resultFailure(answer: FalAnswer): NonNullable<JobStatus['error']> {
    const read = readFalError(answer.json, answer.headers.get('x-fal-error-type'));
    const fromModel = read !== undefined && (answer.status < 500 || read.code !== undefined);
    if (answer.status === 401 || answer.status === 403 || answer.status === 429 || !fromModel) {
      if (answer.status === 404)
        return { kind: 'transient', code: 'result_gone', message: 'the finished request has no result (expired?)' };
      throw this.#http.failure({ addressesId: true }, answer);
    }
    return falJobFailure(answer.status, read);
  }

  #submitUrl(): string {
    const webhook = this.#settings.webhookUrl;
    const base = `${this.#queueUrl}/${this.#modelId}`;
    return webhook ? `${base}?fal_webhook=${encodeURIComponent(webhook)}` : base;
  }

  /** Status, result and cancel name the app only, never the model's path (contracts/fal-queue.md §1). */
  #requestUrl(jobId: string): string {
    return `${this.#queueUrl}/${falAppOf(this.#modelId)}/requests/${encodeURIComponent(jobId)}`;
  }

  #checkSupported(request: SubmitRequest): void {
    refuseUnsupported(this.name, [
      unsupportedReason(this.profile, request),
      otherModelReason(request.model, this.#modelId),
    ]);
  }
}

/** fal keeps no character object: the handle is named by the files it is made of. */
function handleIdOf(references: readonly string[]): string {
  return `refs_${createHash('sha256').update(references.join('\n')).digest('hex').slice(0, 24)}`;
}

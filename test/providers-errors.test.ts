/** Pure tests of the error taxonomy and pricing: no network, no Temporal server. */
import { ApplicationFailure } from '@temporalio/common';
import {
  classifyHttpFailure,
  classifyJobFailure,
  classifyThrown,
  parseRetryAfterMs,
  ProviderError,
  splitCodedMessage,
  toApplicationFailure,
} from '../activities/providers/errors';
import { officialPriceFor, RELAY_PRICE } from '../activities/providers/pricing';
import { unsupportedReason } from '../activities/providers/request-checks';
import { failureTypeOf } from '../workflows/failures';
import { fitSeconds, priceUsd } from '../workflows/pricing';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('classifyHttpFailure', () => {
  const cases: Array<[string, Parameters<typeof classifyHttpFailure>[0], string, string]> = [
    ['500 without code', { provider: 'p', status: 500 }, 'transient', 'http_500'],
    ['502 html page', { provider: 'p', status: 502, message: '<html>Bad gateway</html>' }, 'transient', 'http_502'],
    ['408', { provider: 'p', status: 408 }, 'transient', 'http_408'],
    [
      'heavy load phrase on 400',
      { provider: 'p', status: 400, message: "We're under heavy load" },
      'transient',
      'processing_error',
    ],
    [
      'processing_error code',
      { provider: 'p', status: 400, code: 'processing_error' },
      'transient',
      'processing_error',
    ],
    ['429', { provider: 'p', status: 429, code: 'rate_limit_exceeded' }, 'rate_limited', 'rate_limit_exceeded'],
    [
      '401 token_invalidated',
      { provider: 'p', status: 401, code: 'token_invalidated' },
      'unavailable',
      'token_invalidated',
    ],
    ['401 without body', { provider: 'p', status: 401 }, 'unavailable', 'http_401'],
    [
      '403 phone_number_required',
      { provider: 'p', status: 403, code: 'phone_number_required' },
      'unavailable',
      'phone_number_required',
    ],
    ['403 access policy', { provider: 'p', status: 403, code: 'access_denied' }, 'unavailable', 'access_denied'],
    [
      '403 with a moderation-like phrase stays unavailable',
      { provider: 'p', status: 403, message: 'moderation service blocked your account' },
      'unavailable',
      'http_403',
    ],
    ['400 sentinel_block', { provider: 'p', status: 400, code: 'sentinel_block' }, 'unavailable', 'sentinel_block'],
    [
      'cameo_permission_denied',
      { provider: 'p', status: 400, code: 'cameo_permission_denied' },
      'unavailable',
      'cameo_permission_denied',
    ],
    [
      'suspended route phrase',
      { provider: 'p', status: 503, message: 'This route is suspended until further notice' },
      'unavailable',
      'route_suspended',
    ],
    ['404 bare on a route', { provider: 'p', status: 404 }, 'unavailable', 'route_not_found'],
    [
      '404 on an id with a contract body',
      { provider: 'p', status: 404, code: 'task_not_found', addressesId: true, contractShapedBody: true },
      'invalid',
      'task_not_found',
    ],
    [
      '404 on an id without a contract body',
      { provider: 'p', status: 404, addressesId: true, contractShapedBody: false },
      'unavailable',
      'route_not_found',
    ],
    [
      '404 route_not_found code on an id',
      { provider: 'p', status: 404, code: 'route_not_found', addressesId: true, contractShapedBody: true },
      'unavailable',
      'route_not_found',
    ],
    [
      '400 moderation_blocked',
      { provider: 'p', status: 400, code: 'moderation_blocked' },
      'rejected',
      'moderation_blocked',
    ],
    [
      '503 mentioning moderation stays transient',
      { provider: 'p', status: 503, message: 'moderation service unavailable' },
      'transient',
      'http_503',
    ],
    [
      '400 content violation phrase',
      { provider: 'p', status: 400, message: 'Your prompt is a content violation' },
      'rejected',
      'content_violation',
    ],
    [
      '400 human likeness',
      { provider: 'p', status: 400, code: 'human_likeness_not_allowed' },
      'rejected',
      'human_likeness_not_allowed',
    ],
    [
      '400 validation',
      { provider: 'p', status: 400, code: 'invalid_value', message: 'seconds must be one of 4, 8, 12' },
      'invalid',
      'invalid_value',
    ],
    ['422 without code', { provider: 'p', status: 422 }, 'invalid', 'http_422'],
  ];
  it.each(cases)('%s', (_label, failure, kind, code) => {
    const err = classifyHttpFailure(failure, NOW);
    expect(err).toBeInstanceOf(ProviderError);
    expect({ kind: err.kind, code: err.code, status: err.status, provider: err.provider }).toEqual({
      kind,
      code,
      status: failure.status,
      provider: 'p',
    });
  });

  it('reads Retry-After seconds and dates, and retry-after-ms', () => {
    expect(classifyHttpFailure({ provider: 'p', status: 429, retryAfter: '7' }, NOW).retryAfterMs).toBe(7000);
    expect(
      classifyHttpFailure({ provider: 'p', status: 429, retryAfter: 'Sun, 01 Mar 2026 12:00:30 GMT' }, NOW)
        .retryAfterMs,
    ).toBe(30_000);
    expect(
      classifyHttpFailure({ provider: 'p', status: 429, retryAfterMsHeader: '1500', retryAfter: '9' }, NOW)
        .retryAfterMs,
    ).toBe(1500);
    expect(classifyHttpFailure({ provider: 'p', status: 429 }, NOW).retryAfterMs).toBeUndefined();
  });

  it('never keeps a secret in the message', () => {
    const err = classifyHttpFailure({
      provider: 'p',
      status: 401,
      message: 'Incorrect API key provided: sk-live-abcdefgh12345 (Bearer sk-live-abcdefgh12345)',
      secrets: ['sk-live-abcdefgh12345'],
    });
    expect(err.message).not.toContain('abcdefgh12345');
  });
});

describe('parseRetryAfterMs', () => {
  it.each([
    ['0', 0],
    ['3', 3000],
    ['1.5', 1500],
    [' 12 ', 12_000],
    ['Sun, 01 Mar 2026 12:01:00 GMT', 60_000],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0], // a date in the past means "now"
  ])('%s -> %d ms', (value, ms) => expect(parseRetryAfterMs(value, NOW)).toBe(ms));

  it.each([null, undefined, '', 'soon', '-5'])('%s -> undefined', (value) =>
    expect(parseRetryAfterMs(value, NOW)).toBeUndefined(),
  );

  it('reads milliseconds when asked', () => expect(parseRetryAfterMs('250', NOW, 'ms')).toBe(250));
});

describe('classifyJobFailure and relay error strings', () => {
  it('splits leading codes', () => {
    expect(splitCodedMessage('moderation_blocked: Your request was blocked')).toEqual({
      code: 'moderation_blocked',
      message: 'Your request was blocked',
    });
    expect(splitCodedMessage('Something odd happened')).toEqual({ message: 'Something odd happened' });
  });

  it.each([
    ['moderation_blocked', 'blocked by our safety system', 'rejected'],
    ['processing_error', "We're under heavy load", 'transient'],
    [undefined, "We're under heavy load, try again later", 'transient'],
    [undefined, 'This content may violate our content policies: content violation', 'rejected'],
    ['cameo_permission_denied', 'The owner revoked this character', 'unavailable'],
    ['weird_new_code', 'no idea', 'transient'],
    [undefined, undefined, 'transient'],
  ])('%s / %s -> %s', (code, message, kind) => expect(classifyJobFailure(code, message).kind).toBe(kind));
});

describe('classifyThrown', () => {
  it('classifies connection and timeout errors as transient', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    expect(classifyThrown('p', refused)).toMatchObject({ kind: 'transient', code: 'network_error' });
    expect(classifyThrown('p', refused).message).toContain('ECONNREFUSED');
    expect(classifyThrown('p', new DOMException('The operation timed out.', 'TimeoutError'))).toMatchObject({
      kind: 'transient',
      code: 'timeout',
    });
  });

  it('passes ProviderErrors through', () => {
    const err = new ProviderError({ kind: 'rejected', code: 'x', provider: 'p', message: 'm' });
    expect(classifyThrown('p', err)).toBe(err);
  });
});

describe('toApplicationFailure', () => {
  const make = (kind: ProviderError['kind'], retryAfterMs?: number) =>
    toApplicationFailure(
      new ProviderError({
        kind,
        code: 'c',
        provider: 'relay',
        message: 'relay: went wrong Bearer sk-secret-abcdef',
        ...(retryAfterMs ? { retryAfterMs } : {}),
      }),
    );

  it.each([
    ['transient', failureTypeOf.transient, false],
    ['rate_limited', failureTypeOf.rate_limited, false],
    ['unavailable', failureTypeOf.unavailable, true],
    ['rejected', failureTypeOf.rejected, true],
    ['invalid', failureTypeOf.invalid, true],
  ] as const)('%s -> %s (nonRetryable %s)', (kind, type, nonRetryable) => {
    const failure = make(kind);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(nonRetryable);
    expect(failure.details).toEqual([{ kind, code: 'c', provider: 'relay', message: expect.any(String) }]);
    expect(failure.message).not.toContain('sk-secret');
  });

  it('carries Retry-After as nextRetryDelay', () => {
    expect(make('rate_limited', 4000).nextRetryDelay).toBe(4000);
    expect(make('rate_limited').nextRetryDelay).toBeUndefined();
  });
});

describe('pricing', () => {
  it('prices official per second by model and size', () => {
    const sora2 = officialPriceFor('sora-2')!;
    const pro = officialPriceFor('sora-2-pro-2025-10-06')!;
    expect(priceUsd(sora2, 12, '1280x720')).toBe(1.2);
    expect(priceUsd(pro, 8, '720x1280')).toBe(2.4);
    expect(priceUsd(pro, 4, '1792x1024')).toBe(2);
    expect(priceUsd(pro, 4, '1920x1080')).toBe(2.8);
    expect(officialPriceFor('dall-e-3')).toBeUndefined();
  });

  it('prices relays per video', () => {
    expect(priceUsd(RELAY_PRICE, 10, '720x1280')).toBe(0.12);
    expect(priceUsd(RELAY_PRICE, 15, '1280x720')).toBe(0.12);
  });

  it('fits durations to the smallest covering one, else the longest', () => {
    const relay = { seconds: [15, 10] };
    expect(fitSeconds(relay, 4)).toBe(10);
    expect(fitSeconds(relay, 10)).toBe(10);
    expect(fitSeconds(relay, 12)).toBe(15);
    expect(fitSeconds(relay, 20)).toBe(15);
    expect(fitSeconds({ seconds: [4, 8, 12] }, 5)).toBe(8);
  });

  it('explains unsupported requests', () => {
    expect(unsupportedReason({ seconds: [10, 15], sizes: ['720x1280'] }, { seconds: 12, size: '720x1280' })).toMatch(
      /duration 12s/,
    );
    expect(unsupportedReason({ seconds: [10, 15], sizes: ['720x1280'] }, { seconds: 10, size: '1792x1024' })).toMatch(
      /size 1792x1024/,
    );
    expect(
      unsupportedReason({ seconds: [10, 15], sizes: ['720x1280'] }, { seconds: 10, size: '720x1280' }),
    ).toBeUndefined();
  });
});

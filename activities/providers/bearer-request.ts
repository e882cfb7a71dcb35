/** The request every JSON contract with a Bearer key sends (relay-v1, kling, seedance). */
export interface BearerRequest {
  method: 'GET' | 'POST';
  apiKey: string;
  /** Already serialised: a create's exact bytes matter to contracts that compare them. */
  body?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** Sends it; a network failure rejects as fetch does (the caller classifies it). */
export function bearerRequest(url: string, request: BearerRequest): Promise<Response> {
  return fetch(url, {
    method: request.method,
    headers: {
      Authorization: `Bearer ${request.apiKey}`,
      Accept: 'application/json',
      ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...request.headers,
    },
    ...(request.body === undefined ? {} : { body: request.body }),
    signal: AbortSignal.timeout(request.timeoutMs),
  });
}

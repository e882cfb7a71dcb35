/** The real server failed to start or set up (the message ends with its log tail where there is one). */
export class TemporalOnPostgresError extends Error {
  override readonly name = 'TemporalOnPostgresError';
}

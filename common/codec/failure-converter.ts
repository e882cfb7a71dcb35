/**
 * Loaded by path (`dataConverter.failureConverterPath`), in the workflow sandbox too: failure
 * messages and stack traces go into a payload, so the codec encrypts them like any other data
 * (a failure message can quote a prompt or a clip URL).
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

import { getExternalWorkflowHandle, log, type SignalDefinition } from '@temporalio/workflow';
import { describeFailure } from '../failure-info';

/** Signals a scene or a limiter; one that ended meanwhile (cancelled, terminated) is waiting for nothing. */
export async function tell<Arg>(workflowId: string, signal: SignalDefinition<[Arg]>, arg: Arg): Promise<void> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(signal, arg);
  } catch (err) {
    log.warn('signal not delivered: its receiver has ended', {
      to: workflowId,
      signal: signal.name,
      error: describeFailure(err).message,
    });
  }
}

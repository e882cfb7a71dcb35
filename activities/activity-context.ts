import { Context } from '@temporalio/activity';

/**
 * The running activity's context, or undefined outside one (adapters called straight from unit
 * tests). `Context.current()` is the public way in, and it throws where there is no activity.
 */
export function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * A time-skipping TestWorkflowEnvironment on the project's own test-server binary (from
 * `TEMPORAL_TEST_SERVER_PATH`, set by the jest global setup, or resolved/installed here), so
 * the SDK never tries to download one from GitHub.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTestServer } from '../../client/stack/temporal-binaries';

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = await resolveTestServer({ install: true });
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
}

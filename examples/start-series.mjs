#!/usr/bin/env node
// Starts a series from a spec file and waits for it, printing a line per finished scene.
//
//   npm install sora-series
//   node start-series.mjs my-series.yaml
//
// Temporal is found as the CLI finds it: TEMPORAL_ADDRESS (default 127.0.0.1:7233),
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or TEMPORAL_TLS_*, SORA_SERIES_TASK_QUEUE. A worker
// (`sora-series worker`, or the `sora-series dev` stack) runs the series.
import { connect, validate } from 'sora-series';

const file = process.argv[2];
if (!file) {
  console.error('usage: node start-series.mjs <spec.yaml|spec.json>');
  process.exit(2);
}

try {
  // Checked before Temporal is contacted: a bad spec is refused naming each field and its fix.
  const { input, estimate } = await validate(file, { checkBudget: true });
  console.log(`${input.name}: ${input.scenes.length} scenes, planned cost $${estimate.plannedUsd.toFixed(2)}`);

  const series = await connect();
  try {
    const { id } = await series.start(file);
    console.log(`started ${id}`);
    const report = await series.wait(id, { onProgress: (line) => console.log(line) });
    console.log(`${report.id}: ${report.status}, $${report.costUsd.toFixed(2)}`);
    if (report.manifestPath) console.log(`manifest: ${report.manifestPath}`);
    process.exitCode = report.status === 'completed' || report.status === 'completed_with_rejections' ? 0 : 1;
  } finally {
    await series.close();
  }
} catch (err) {
  // SpecError, BudgetBelowEstimateError, SeriesAlreadyRunningError, ...: the name says which.
  console.error(`${err.name}: ${err.message}`);
  process.exitCode = 2;
}

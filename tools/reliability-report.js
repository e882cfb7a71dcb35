#!/usr/bin/env node
/* global require, process, console */
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS on purpose: runs on a fresh clone with node alone */
/**
 * Prints the reliability measurements the chaos, fault and bad-input tests recorded
 * (test/helpers/measurements.ts, one JSON object per line) as Markdown:
 *
 *   node tools/reliability-report.js .data/reliability.jsonl
 *
 * The summary sums the headline counts over every test that recorded them; the details list
 * every measurement with the test file that recorded it. Exit code 1 only when there is no file.
 */
const { existsSync, readFileSync } = require('node:fs');

/** Headline rows, in this order; any of them not recorded shows as "not measured". */
const HEADLINES = [
  ['faults_injected', 'Faults injected'],
  ['kills_survived', 'Worker kills survived'],
  ['scenes_lost', 'Scenes lost'],
  ['duplicate_payments', 'Duplicate payments'],
  ['wasted_calls_after_policy_change', 'Wasted calls after a policy change'],
  ['bad_inputs_refused', 'Bad inputs refused'],
];

function readMeasurements(file) {
  const rows = [];
  const problems = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const row = JSON.parse(line);
        if (typeof row.name !== 'string' || !['number', 'string'].includes(typeof row.value))
          throw new Error('needs name and value');
        rows.push(row);
      } catch (err) {
        problems.push(`line ${i + 1}: ${err.message}`);
      }
    });
  return { rows, problems };
}

const cell = (value) => String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const unique = (values) => [...new Set(values.filter(Boolean))];

function summaryRow(rows, name, label) {
  const found = rows.filter((r) => r.name === name);
  if (found.length === 0) return `| ${label} | not measured | |`;
  const numbers = found.filter((r) => typeof r.value === 'number');
  const value =
    numbers.length === found.length
      ? numbers.reduce((sum, r) => sum + r.value, 0)
      : found.map((r) => r.value).join(', ');
  const units = unique(found.map((r) => r.unit));
  const sources = unique(found.map((r) => r.source));
  const detail = found.length > 1 ? `${found.length} records` : '';
  return `| ${label} | ${cell(value)} | ${cell([detail, units.join(', '), sources.join(', ')].filter(Boolean).join('; '))} |`;
}

function report(file) {
  const { rows, problems } = readMeasurements(file);
  const out = ['# Reliability report', '', `From \`${file}\`: ${rows.length} measurements.`, ''];
  out.push('| Measure | Value | From |', '| --- | --- | --- |');
  for (const [name, label] of HEADLINES) out.push(summaryRow(rows, name, label));
  const headlineNames = new Set(HEADLINES.map(([name]) => name));
  const others = rows.filter((r) => !headlineNames.has(r.name));
  if (others.length > 0) {
    out.push('', '## Details', '', '| Measurement | Value | Unit | Test |', '| --- | --- | --- | --- |');
    for (const r of others)
      out.push(`| ${cell(r.name)} | ${cell(r.value)} | ${cell(r.unit ?? '')} | ${cell(r.source ?? '')} |`);
  }
  if (problems.length > 0) out.push('', `Skipped ${problems.length} unreadable line(s): ${problems.join('; ')}`);
  return out.join('\n');
}

const file = process.argv[2] || process.env.RELIABILITY_OUT;
if (!file) {
  console.error('usage: node tools/reliability-report.js <measurements.jsonl> (or set RELIABILITY_OUT)');
  process.exit(2);
}
if (!existsSync(file)) {
  console.error(`reliability-report: no measurements at ${file} (did the tests run with RELIABILITY_OUT set?)`);
  process.exit(1);
}
console.log(report(file));

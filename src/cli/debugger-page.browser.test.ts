import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { builtInRule } from '../domain/debugger/built-in-rules.ts';
import { readRuleParameters } from '../domain/debugger/rule.ts';
import type { TrainingTrace } from '../domain/debugger/trace.ts';
import { CHART_IDS, debuggerReportPage } from './debugger-page.ts';
import { debuggerSummary, type DebuggerReport } from './debugger-report.ts';

/**
 * The page `kennel training-jobs report` writes, opened in headless Chromium (Debian's, which
 * .ci/run installs; a machine without it fails here, loudly) through playwright-core: no console
 * errors, offline, and every chart drawn.
 */
const CHROMIUM = '/usr/bin/chromium';

function overfittingTrace(): TrainingTrace {
  const steps = Array.from({ length: 80 }, (_, step) => ({
    step,
    epoch: Math.floor(step / 10) + 1,
    loss: 2 * Math.exp(-step / 15) + 0.05 * ((step * 7) % 3),
    learningRate: 0.001,
    dataMs: 1 + (step % 4) * 0.2,
    computeMs: 8 + (step % 5),
    tensors:
      step % 5 === 0
        ? ['w1', 'b1', 'w2', 'b2'].map((name, i) => ({ name, norm: 3, variance: 0.01, gradientNorm: (i + 1) * Math.exp(-step / 30), gradientMeanAbs: 0.01, gradientSpread: 0.1, nanCount: 0, infiniteCount: 0 }))
        : [],
    relus: [],
  }));
  const epochs = Array.from({ length: 8 }, (_, i) => ({ epoch: i + 1, step: i * 10 + 9, trainLoss: 2 * Math.exp(-(i * 10 + 9) / 15), validationLoss: 1 + 0.1 * i }));
  const system = Array.from({ length: 40 }, (_, i) => ({ atMs: 1_000_000 + i * 500, step: i * 2, cpuPercent: 60 + 30 * Math.sin(i / 4), rssMb: 300 + i, pauseMs: i % 7 }));
  return { steps, epochs, system, classes: { labels: ['beagle', '<script>pug</script>'], samples: [40, 41] } };
}

function report(): DebuggerReport {
  const trace = overfittingTrace();
  const findings = ['Overfit', 'LossNotDecreasing', 'ClassImbalance'].map((name) => {
    const rule = builtInRule(name, 'debug');
    return { configurationName: name, rule, finding: rule.evaluate(trace, readRuleParameters(rule, {}), { ended: true }) };
  });
  return { jobName: 'dogs-<b>1</b>', status: 'Completed', trace, findings };
}

describe('the debugger report page in a browser', () => {
  let dir: string;
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install chromium (apt-get install chromium); .ci/run does`);
    dir = await mkdtemp(join(tmpdir(), 'kennel-debugger-page-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens with no console errors, draws every chart, and shows each finding with what to try', async () => {
    const file = join(dir, 'report.html');
    await writeFile(file, debuggerReportPage(report()));
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
    page.on('pageerror', (error) => void errors.push(error.message));
    const requests: string[] = [];
    page.on('request', (request) => void (request.url().startsWith('file:') || requests.push(request.url())));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector(`#${CHART_IDS.at(-1)} canvas`);
    assert.deepEqual(errors, [], 'no console errors');
    assert.deepEqual(requests, [], 'nothing fetched from the network');
    for (const id of CHART_IDS) {
      const png = await page.locator(`#${id} canvas`).screenshot();
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      // Axes, grid and labels are grey: only the series are in colour, so coloured pixels mean data was drawn.
      let coloured = 0;
      for (let i = 0; i < data.length; i += info.channels) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
      const share = coloured / (info.width * info.height);
      assert.ok(share > 0.002, `${id}: ${(share * 100).toFixed(2)}% of its area holds a series`);
    }
    const text = await page.locator('table.findings').innerText();
    assert.match(text, /Overfit[\s\S]*IssuesFound[\s\S]*What to try/);
    assert.ok(!(await page.content()).includes('<b>1</b>'), 'the job name is shown as text');
    await page.close();
  });

  it('the terminal summary gives the loss as a sparkline and one line per rule', () => {
    const summary = debuggerSummary(report());
    assert.match(summary, /^loss [▁▂▃▄▅▆▇█]{20,40} /m);
    assert.match(summary, /✗ Overfit: IssuesFound at step \d+/);
    assert.match(summary, /rules? found issues/);
  });
});

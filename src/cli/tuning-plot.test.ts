import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { DATA_ELEMENT_ID, tuningReportPage, type TuningPageData } from './tuning-plot.ts';
import type { TuningReport, TuningTrial } from './tuning-report.ts';

const XSS = '</script><img src=x onerror=alert(1)>';

function trial(number: number, final: number | undefined, curve: number[], extra: Partial<TuningTrial> = {}): TuningTrial {
  return {
    number,
    trainingJobName: `hpo-${number}`,
    status: final === undefined ? 'Failed' : 'Completed',
    hyperParameters: { learning_rate: String(0.001 * (number + 1)) },
    ...(final === undefined ? {} : { final }),
    curve,
    ...extra,
  };
}

function report(trials: TuningTrial[], type: 'Minimize' | 'Maximize' = 'Minimize'): TuningReport {
  return {
    name: 'hpo',
    status: 'Completed',
    strategy: 'Random',
    objective: { type, metricName: 'validation:loss' },
    maxNumberOfTrainingJobs: 10,
    maxParallelTrainingJobs: 2,
    counters: { Completed: 5, InProgress: 0, RetryableError: 0, NonRetryableError: 1, Stopped: 0 },
    trials,
  };
}

const FIVE = report([
  trial(0, 0.9, [1.5, 1.1, 0.9]),
  trial(1, 0.7, [1.4, 0.9, 0.7]),
  trial(2, undefined, [2.0], { failureReason: 'the loss diverged' }),
  trial(3, 0.8, [1.3, 0.8]),
  trial(4, 0.5, [1.2, 0.8, 0.6, 0.5], { earlyStopped: true, status: 'Stopped' }),
  trial(5, 0.6, [1.1, 0.6]),
]);

function uPlotFile(name: string): string {
  return readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${name}`), 'utf8');
}

function embeddedData(page: string): TuningPageData {
  const match = new RegExp(`<script type="application/json" id="${DATA_ELEMENT_ID}">([\\s\\S]*?)</script>`).exec(page);
  assert.ok(match, 'no data element');
  return JSON.parse(match[1]) as TuningPageData;
}

/** Runs the page's own script against a stand-in uPlot, returning the charts it asked for. */
function chartsDrawn(page: string): { element: string; options: { series: { label?: string }[] }; data: unknown[][] }[] {
  const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]);
  const pageScript = scripts.at(-1)!;
  const data = /<script type="application\/json" id="[^"]+">([\s\S]*?)<\/script>/.exec(page)![1];
  const drawn: ReturnType<typeof chartsDrawn> = [];
  class FakeUPlot {
    static paths = { stepped: () => () => null };
    constructor(options: { series: { label?: string }[] }, columns: unknown[][], element: { id: string }) {
      // Through JSON: the script's arrays belong to the other realm, which strict deepEqual tells apart.
      drawn.push(JSON.parse(JSON.stringify({ element: element.id, options, data: columns })));
    }
  }
  const elements = new Set([...page.matchAll(/<div id="([^"]+)"/g)].map((match) => match[1]));
  const document = {
    body: { clientWidth: 1000 },
    getElementById: (id: string) => (id === DATA_ELEMENT_ID ? { textContent: data } : elements.has(id) ? { id } : null),
  };
  runInNewContext(pageScript, { document, uPlot: FakeUPlot });
  return drawn;
}

describe('tuningReportPage', () => {
  it('is a complete page with uPlot inlined, and loads nothing from the network', () => {
    const page = tuningReportPage(FIVE);
    assert.match(page, /^<!doctype html>\n<html lang="en">/);
    assert.match(page, /<\/html>\n$/);
    assert.ok(page.includes(uPlotFile('uPlot.iife.min.js')), 'uPlot script inlined');
    assert.ok(page.includes(uPlotFile('uPlot.min.css')), 'uPlot stylesheet inlined');
    assert.doesNotMatch(page, /<script[^>]*\ssrc=/i);
    assert.doesNotMatch(page, /<link\b/i);
    const withoutComments = page.replace(/\/\*[\s\S]*?\*\//g, '');
    assert.doesNotMatch(withoutComments, /https?:\/\//);
    assert.match(page, /Content-Security-Policy" content="default-src 'none'/);
  });

  it('shows the header and ranks the trials in an HTML table, the best marked', () => {
    const page = tuningReportPage(FIVE);
    assert.match(page, /<h1>Tuning job hpo: <span class="status">Completed<\/span><\/h1>/);
    assert.match(page, /<dt>Objective<\/dt><dd>minimize validation:loss<\/dd>/);
    assert.match(page, /<dt>Trials<\/dt><dd>6 \/ 10 done, up to 2 in parallel<\/dd>/);
    const rows = [...page.matchAll(/<tr( class="[^"]*")?><td>(★?)<\/td><td>([^<]*)<\/td><td>(\d+)<\/td>/g)];
    assert.deepEqual(
      rows.map((row) => Number(row[4])),
      [4, 5, 1, 3, 0, 2],
    );
    assert.deepEqual(
      rows.map((row) => row[2]),
      ['★', '', '', '', '', ''],
    );
    assert.match(rows[0][1], /best/);
    assert.match(page, /<td>hpo-4<\/td><td>Stopped \(early\)<\/td><td>0\.5<\/td><td>0\.005<\/td>/);
    assert.match(page, /<li>trial 2 \(hpo-2\): the loss diverged<\/li>/);

    const maximised = tuningReportPage({ ...FIVE, objective: { type: 'Maximize', metricName: 'validation:accuracy' } });
    const order = [...maximised.matchAll(/<tr( class="[^"]*")?><td>★?<\/td><td>[^<]*<\/td><td>(\d+)<\/td>/g)].map((row) => Number(row[2]));
    assert.deepEqual(order, [0, 3, 1, 5, 4, 2]);
  });

  it('embeds the report as JSON that reads back unchanged, with the chart columns', () => {
    const data = embeddedData(tuningReportPage(FIVE));
    assert.deepEqual(data.report, FIVE);
    assert.deepEqual(data.objective.trials, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(data.objective.finals, [0.9, 0.7, null, 0.8, 0.5, 0.6]);
    assert.deepEqual(data.objective.bestSoFar, [0.9, 0.7, 0.7, 0.7, 0.5, 0.5]);
    assert.deepEqual(data.objective.best, [null, null, null, null, 0.5, null]);
    assert.deepEqual(data.curves.epochs, [1, 2, 3, 4]);
    // Faded trials first, then the best three, best last (drawn on top).
    assert.deepEqual(
      data.curves.series.map((s) => [s.label, s.rank]),
      [
        ['trial 0', undefined],
        ['trial 2', undefined],
        ['trial 3', undefined],
        ['#3 trial 1: hpo-1', 3],
        ['#2 trial 5: hpo-5', 2],
        ['#1 trial 4: hpo-4', 1],
      ],
    );
    assert.deepEqual(data.curves.series.at(-1)!.values, [1.2, 0.8, 0.6, 0.5]);
    assert.deepEqual(data.curves.series.at(-2)!.values, [1.1, 0.6, null, null]);
  });

  it('keeps a hyperparameter value that closes the script element inert', () => {
    const hostile = report([
      trial(0, 0.5, [0.5], { trainingJobName: '<b>job</b>', hyperParameters: { [`name${XSS}`]: XSS } }),
      trial(1, undefined, [], { failureReason: XSS }),
    ]);
    hostile.name = `hpo${XSS}`;
    const page = tuningReportPage(hostile);
    assert.ok(!page.includes('<img'), 'an <img> element got into the page');
    assert.ok(!page.includes('<b>job'), 'a <b> element got into the page');
    // Exactly the page's own three script elements: the data, uPlot and the chart script.
    assert.equal(page.match(/<script/g)!.length, 3);
    assert.equal(page.match(/<\/script>/g)!.length, 3);
    assert.match(page, /<td>&#60;\/script&#62;&#60;img src=x onerror=alert\(1\)&#62;<\/td>/);
    const data = embeddedData(page);
    assert.equal(data.report.trials[0].hyperParameters[`name${XSS}`], XSS);
    assert.equal(data.report.name, `hpo${XSS}`);
    assert.equal(data.report.trials[1].failureReason, XSS);
  });

  it('draws both charts with a point for each trial with a value and aligned columns', () => {
    const [objective, curves] = chartsDrawn(tuningReportPage(FIVE));
    assert.equal(objective.element, 'objective-chart');
    assert.deepEqual(objective.options.series.map((s) => s.label), ['trial', 'validation:loss', 'best so far', 'best']);
    assert.deepEqual(objective.data[1], [0.9, 0.7, null, 0.8, 0.5, 0.6]);
    for (const column of objective.data) assert.equal(column.length, 6);
    assert.equal(curves.element, 'curves-chart');
    assert.equal(curves.options.series.length, 7);
    for (const column of curves.data) assert.equal(column.length, 4);
  });

  it('handles no trials, no values, NaN and infinite values, and flat values', () => {
    const cases: [string, TuningReport, number][] = [
      ['no trials', report([]), 0],
      ['no values', report([trial(0, undefined, []), trial(1, NaN, [NaN]), trial(2, Infinity, [Infinity, -Infinity])]), 0],
      ['one trial', report([trial(0, 0.5, [0.7, 0.5])]), 2],
      ['flat', report([trial(0, 0.5, [0.5]), trial(1, 0.5, [0.5])]), 2],
      ['values, no curves', report([trial(0, 0.5, []), trial(1, 0.4, [])]), 1],
    ];
    for (const [name, r, charts] of cases) {
      const page = tuningReportPage(r);
      assert.equal(chartsDrawn(page).length, charts, name);
      if (charts < 2) assert.match(page, /No trial has reported validation:loss (per epoch )?yet/, name);
      assert.doesNotMatch(page.replace(uPlotFile('uPlot.iife.min.js'), ''), /NaN|Infinity/, name);
    }
    const data = embeddedData(tuningReportPage(report([trial(0, NaN, [NaN, 0.5])])));
    assert.equal(data.report.trials[0].final, null);
    assert.deepEqual(data.curves.series[0].values, [null, 0.5]);
  });
});

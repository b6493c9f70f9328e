import { describe, expect, test } from '@jest/globals';
import { timingsLine, withRest } from '../src/job/summary.js';
import { partsOf } from '../scripts/bench/steps.js';

/*
 * Where a step's milliseconds went: the main and post steps each write one debug line of their
 * parts (src/job/summary.ts), which `npm run bench` (section 1t, scripts/bench/steps.ts) reads
 * back. A line the bench cannot read makes the section fail, not go quiet.
 */
describe("a step's timings line (pure)", () => {
  test.each<['main' | 'post', [string, number][], number, string]>([
    [
      'main',
      [
        ['start-up', 41.6],
        ['settings', 0.2],
        ['guard', 12],
        ['exports and state', 1.4],
      ],
      80.2,
      "Where the main step's time went: start-up 42 ms, guard 12 ms, exports and state 1 ms; 80 ms since the process started.",
    ],
    ['post', [['start-up', 39]], 52, "Where the post step's time went: start-up 39 ms; 52 ms since the process started."],
  ])('%s', (step, parts, total, line) => {
    expect(timingsLine(step, parts, total)).toBe(line);
  });

  test('withRest: the timed phases, then what the rest of the span cost', () => {
    expect(withRest({ guard: 10, slot: 5 }, 20, 'root and plan')).toEqual([
      ['guard', 10],
      ['slot', 5],
      ['root and plan', 5],
    ]);
    expect(withRest(undefined, 7, 'the rest')).toEqual([['the rest', 7]]);
  });

  test('the bench reads back every part a line names, names with spaces included', () => {
    const line = timingsLine(
      'post',
      [
        ['start-up', 40],
        ['the rest of the release', 3],
        ['hand-back', 2],
        ['summary', 1],
      ],
      50,
    );
    expect(partsOf(`::group::Release\n::debug::${line}\n`)).toEqual({ 'start-up': 40, 'the rest of the release': 3, 'hand-back': 2, summary: 1 });
    expect(() => partsOf('no such line\n')).toThrow(/no timings line/);
  });
});

import { describe, expect, it } from 'vitest';
import { AnswerLane } from '../../src/runpod/answer-lane.js';

describe('AnswerLane', () => {
  it('lets large answers through a budget per turn of the event loop, so callbacks ready in between run first', async () => {
    const lane = new AnswerLane(100);
    const order: string[] = [];
    const turns = ['a', 'b', 'c'].map((name) => lane.turn(100).then(() => order.push(name)));
    expect(lane.length).toBe(3);
    // Ready in the same turn as the first answer, like a /run answer read in the same poll phase.
    setImmediate(() => order.push('run answer'));
    await Promise.all(turns);
    expect(order).toEqual(['a', 'run answer', 'b', 'c']);
    expect(lane.length).toBe(0);
  });

  it('lets as many through in one turn as fit the budget, and always at least one', async () => {
    const lane = new AnswerLane(100);
    const order: string[] = [];
    const turns = [
      ['a', 40],
      ['b', 60],
      ['c', 250],
      ['d', 10],
    ].map(([name, chars]) => lane.turn(chars as number).then(() => order.push(name as string)));
    setImmediate(() => order.push('|'));
    await Promise.all(turns);
    // a + b fill the first turn; c alone is over the budget yet goes in the next; d after it.
    expect(order).toEqual(['a', 'b', '|', 'c', 'd']);
  });

  it('serves answers in the order they arrived, also when more come while it drains', async () => {
    const lane = new AnswerLane(1);
    const order: number[] = [];
    const first = [1, 2].map((n) => lane.turn(1).then(() => order.push(n)));
    await first[0];
    const later = [3, 4].map((n) => lane.turn(1).then(() => order.push(n)));
    await Promise.all([...first, ...later]);
    expect(order).toEqual([1, 2, 3, 4]);
  });
});

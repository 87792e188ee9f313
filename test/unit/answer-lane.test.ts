import { describe, expect, it } from 'vitest';
import { AnswerLane } from '../../src/runpod/answer-lane.js';

describe('AnswerLane', () => {
  it('lets one large answer through per turn of the event loop, so callbacks ready in between run first', async () => {
    const lane = new AnswerLane();
    const order: string[] = [];
    const turns = ['a', 'b', 'c'].map((name) => lane.turn().then(() => order.push(name)));
    expect(lane.length).toBe(3);
    // Ready in the same turn as the first answer, like a /run answer read in the same poll phase.
    setImmediate(() => order.push('run answer'));
    await Promise.all(turns);
    expect(order).toEqual(['a', 'run answer', 'b', 'c']);
    expect(lane.length).toBe(0);
  });

  it('serves answers in the order they arrived, also when more come while it drains', async () => {
    const lane = new AnswerLane();
    const order: number[] = [];
    const first = [1, 2].map((n) => lane.turn().then(() => order.push(n)));
    await first[0];
    const later = [3, 4].map((n) => lane.turn().then(() => order.push(n)));
    await Promise.all([...first, ...later]);
    expect(order).toEqual([1, 2, 3, 4]);
  });
});

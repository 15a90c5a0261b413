import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { RestartPolicy, RestartDecision } from "../src/supervisor";

function delay(d: RestartDecision): number {
  assert.ok(d.allowed, `expected a restart to be allowed, got ${d.allowed ? "" : d.reason}`);
  return d.delayMs;
}

describe("RestartPolicy", () => {
  test("backs off exponentially from the base delay", () => {
    const p = new RestartPolicy({ maxRestarts: 10, baseDelayMs: 200, maxDelayMs: 100_000 });
    const delays = [0, 1, 2, 3, 4].map((i) => delay(p.next(i * 10)));
    assert.deepEqual(delays, [200, 400, 800, 1600, 3200]);
  });

  test("caps the delay", () => {
    const p = new RestartPolicy({ maxRestarts: 10, baseDelayMs: 200, maxDelayMs: 1000 });
    const delays = [0, 1, 2, 3, 4, 5].map((i) => delay(p.next(i)));
    assert.deepEqual(delays, [200, 400, 800, 1000, 1000, 1000]);
  });

  test("defaults: 5 restarts in 3 minutes, 200 ms doubling to at most 5 s", () => {
    const p = new RestartPolicy();
    const delays = [0, 1, 2, 3, 4].map((i) => delay(p.next(i * 1000)));
    assert.deepEqual(delays, [200, 400, 800, 1600, 3200]);
    const refused = p.next(5000);
    assert.equal(refused.allowed, false);
    // The oldest restart leaves the window 3 minutes after it happened.
    assert.equal(p.next(3 * 60_000 - 1).allowed, false);
    assert.equal(p.next(3 * 60_000).allowed, true);
  });

  test("refuses more than maxRestarts within the window, with a reason", () => {
    const p = new RestartPolicy({ maxRestarts: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      assert.equal(p.next(i).allowed, true);
    }
    const d = p.next(10);
    assert.equal(d.allowed, false);
    assert.ok(!d.allowed && /4 times within 1 minute/.test(d.reason), JSON.stringify(d));
    // A refusal is not a restart: it does not extend the window.
    assert.equal(p.next(59_999).allowed, false);
    assert.equal(p.next(60_000).allowed, true);
  });

  test("crashes spread out beyond the window never stop restarts, and the delay relaxes", () => {
    const p = new RestartPolicy({ maxRestarts: 2, windowMs: 1000, baseDelayMs: 100 });
    for (let i = 0; i < 20; i++) {
      assert.equal(delay(p.next(i * 1000)), 100, `crash ${i}`);
    }
  });

  test("reset forgets earlier restarts", () => {
    const p = new RestartPolicy({ maxRestarts: 2, windowMs: 60_000, baseDelayMs: 100 });
    delay(p.next(0));
    delay(p.next(1));
    assert.equal(p.next(2).allowed, false);
    p.reset();
    assert.equal(delay(p.next(3)), 100);
  });
});

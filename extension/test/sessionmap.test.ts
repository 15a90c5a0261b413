import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SessionInfo, SessionsChangedParams } from "../src/protocol.gen";
import { SessionMap } from "../src/sessionmap";

const info = (name: string, over: Partial<SessionInfo> = {}): SessionInfo => ({
  name,
  kind: "credentials",
  command: "AssumeRole",
  accessKeyId: "ASIA…ABCD",
  expiration: "2030-01-01T00:00:00Z",
  createdAt: "2029-12-31T23:00:00Z",
  secondsLeft: 3600,
  expired: false,
  active: false,
  refreshable: true,
  ...over,
} as SessionInfo);

const change = (reason: string, session: string, active: string, s?: SessionInfo): SessionsChangedParams => ({ reason, session, active, ...(s ? { info: s } : {}) });

describe("SessionMap", () => {
  test("a whole list, then changes, gives what sessions/list would", () => {
    const m = new SessionMap();
    m.replace({ sessions: [info("b"), info("d")], active: "base" });
    m.apply(change("created", "c", "base", info("c")));
    m.apply(change("refreshed", "b", "base", info("b", { accessKeyId: "ASIA…NEW1" })));
    m.apply(change("forgotten", "d", "base"));
    m.apply(change("created", "a", "base", info("a")));
    m.apply(change("used", "c", "c", info("c", { active: true })));
    const list = m.list();
    assert.deepEqual(list.sessions.map((s) => s.name), ["a", "b", "c"]);
    assert.equal(list.active, "c");
    assert.equal(list.sessions.find((s) => s.name === "b")?.accessKeyId, "ASIA…NEW1");
    assert.deepEqual(list.sessions.map((s) => s.active), [false, false, true]);
    assert.equal(m.activeSession()?.name, "c");
  });

  test("the previous default loses its flag when another becomes the default", () => {
    const m = new SessionMap();
    m.replace({ sessions: [info("a", { active: true }), info("b")], active: "a" });
    m.apply(change("used", "b", "b", info("b", { active: true })));
    assert.deepEqual(m.list().sessions.map((s) => [s.name, s.active]), [["a", false], ["b", true]]);
  });

  test("forgetting the default returns to the base identity", () => {
    const m = new SessionMap();
    m.replace({ sessions: [info("a", { active: true })], active: "a" });
    m.apply(change("forgotten", "a", "base"));
    assert.equal(m.activeSession(), undefined);
    assert.deepEqual(m.list(), { sessions: [], active: "base" });
  });

  test("10,000 changes stay linear: each is applied without rebuilding the list", () => {
    const m = new SessionMap();
    m.replace({ sessions: [], active: "base" });
    for (let i = 0; i < 10_000; i++) m.apply(change("created", `s-${String(i).padStart(5, "0")}`, "base", info(`s-${String(i).padStart(5, "0")}`)));
    assert.equal(m.size, 10_000);
    const first = m.list();
    assert.equal(first, m.list(), "the list is built once until the next change");
    assert.equal(first.sessions[9_999].name, "s-09999");
  });
});

// Supervisor's onStarted against the real sidecar: it runs after initialize and before client()
// hands the sidecar to anyone; its failure or hang is logged and does not fail the start.
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import type { SidecarClient } from "../src/client";
import { Supervisor, type SupervisorOptions, type SupervisorState } from "../src/supervisor";
import { scratchDir, sidecarBinary, sidecarEnv, sidecarSkipReason, withTimeout } from "./helpers";

const skip = sidecarSkipReason();

describe("Supervisor onStarted", { skip, timeout: 60_000 }, () => {
  const scratch = scratchDir();
  const supervisors: Supervisor[] = [];

  after(async () => {
    await Promise.all(supervisors.map((s) => s.stop()));
    scratch.remove();
  });

  function supervise(opts: Partial<SupervisorOptions>): { supervisor: Supervisor; logs: string[]; order: string[] } {
    const logs: string[] = [];
    const order: string[] = [];
    const env = sidecarEnv(scratch.dir);
    const supervisor = new Supervisor({
      binary: () => sidecarBinary,
      settings: () => ({ region: "us-east-1", endpointUrl: "http://127.0.0.1:9", maxAttempts: 1 }),
      clientInfo: { name: "supervisor-started-test" },
      env: () => env,
      log: (l) => logs.push(l),
      onStateChange: (s: SupervisorState) => order.push(`state ${s}`),
      ...opts,
    });
    supervisors.push(supervisor);
    return { supervisor, logs, order };
  }

  test("runs after initialize, with the new client, before any caller gets it", async () => {
    let given: SidecarClient | undefined;
    const h = supervise({
      onStarted: async (client) => {
        h.order.push("onStarted begins");
        given = client;
        // The sidecar answers already: initialize is done.
        assert.equal((await client.listSessions()).active, "base");
        assert.equal(h.supervisor.running, false, "not handed out yet");
        await new Promise((resolve) => setTimeout(resolve, 200));
        h.order.push("onStarted ends");
      },
    });
    const callers = [0, 1, 2].map((i) => h.supervisor.client().then((c) => (h.order.push(`caller ${i}`), c)));
    const clients = await withTimeout(Promise.all(callers), 10_000, "the start");
    assert.ok(clients.every((c) => c === given));
    assert.deepEqual(h.order, ["state starting", "onStarted begins", "onStarted ends", "state running", "caller 0", "caller 1", "caller 2"]);
  });

  test("a failure is logged and the start goes on", async () => {
    const h = supervise({
      onStarted: async () => {
        throw new Error("the vault is locked");
      },
    });
    const client = await withTimeout(h.supervisor.client(), 10_000, "the start");
    assert.equal((await client.listSessions()).active, "base");
    assert.ok(h.logs.includes("[supervisor] the start-up step failed: the vault is locked"), h.logs.join("\n"));
    assert.equal(h.order.at(-1), "state running");
  });

  test("a hang is given up after onStartedTimeoutMs", async () => {
    const h = supervise({ onStarted: () => new Promise<void>(() => undefined), onStartedTimeoutMs: 150 });
    const client = await withTimeout(h.supervisor.client(), 10_000, "the start");
    assert.equal((await client.listSessions()).active, "base");
    assert.ok(h.logs.some((l) => /the start-up step did not finish within 150 ms/.test(l)), h.logs.join("\n"));
  });

  test("runs again for each new process", async () => {
    const seen: SidecarClient[] = [];
    const h = supervise({
      onStarted: async (client) => {
        seen.push(client);
      },
    });
    const first = await h.supervisor.client();
    await h.supervisor.restart();
    const second = await h.supervisor.client();
    assert.equal(seen.length, 2);
    assert.equal(seen[0], first);
    assert.equal(seen[1], second);
    assert.notEqual(first, second);
  });
});

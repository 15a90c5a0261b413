// Replays the golden exchanges of protocol/testdata that need no STS (the Go tests replay all of
// them) against the real sidecar, through vscode-jsonrpc's framing: TypeScript and Go read the same
// contract, byte for byte after JSON parsing.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as jsonrpcTypes from "vscode-jsonrpc/lib/node/main";
import { jsonrpc, repoRoot, scratchDir, sidecarBinary, sidecarEnv, sidecarSkipReason, withTimeout } from "./helpers";

interface Step {
  send: { id?: number | string; method: string; params?: unknown };
  /** The answer to the sidecar's requests during the step (mfa/tokenCode): a result, or {"error": …}. */
  reply?: Record<string, unknown>;
  /** The notifications and requests the sidecar sends before its response. */
  events?: Record<string, unknown>[];
  expect?: Record<string, unknown>;
}

interface Golden {
  description: string;
  sts?: string;
  steps: Step[];
}

const testdata = path.join(repoRoot, "protocol", "testdata");
const goldens = fs
  .readdirSync(testdata)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({ file: f, golden: JSON.parse(fs.readFileSync(path.join(testdata, f), "utf8")) as Golden }))
  .filter(({ golden }) => golden.sts === undefined);

// Nothing listens here: no golden without "sts" reaches STS, and if one did it would fail fast.
const ENDPOINT = "http://127.0.0.1:9";

function withEndpoint(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).split("{{ENDPOINT}}").join(ENDPOINT)) as unknown;
}

/** The sidecar's version differs per build; the goldens say {{VERSION}}. */
function normalize(response: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(response)) as { result?: { serverInfo?: { version?: string } } };
  if (copy.result?.serverInfo?.version !== undefined) {
    copy.result.serverInfo.version = "{{VERSION}}";
  }
  return copy;
}

const skip = sidecarSkipReason();

describe("golden exchanges against the real sidecar", { skip }, () => {
  test("the stored exchanges without STS include lifecycle and validation", () => {
    const files = goldens.map((g) => g.file);
    assert.ok(files.includes("lifecycle.json") && files.includes("validation.json"), files.join(", "));
  });

  for (const { file, golden } of goldens) {
    test(`${file}: ${golden.description}`, async () => {
      const scratch = scratchDir();
      const proc = spawn(sidecarBinary, ["serve", "--log-level", "error"], { env: sidecarEnv(scratch.dir), stdio: ["pipe", "pipe", "inherit"] });
      const exited = new Promise<number | null>((resolve) => proc.once("close", (code) => resolve(code)));
      try {
        const { stdin, stdout } = proc;
        assert.ok(stdin && stdout);
        const writer = new jsonrpc.StreamMessageWriter(stdin);
        const responses = new Map<string, jsonrpcTypes.Message>();
        const waiters = new Map<string, (m: jsonrpcTypes.Message) => void>();
        /** What the sidecar sent on its own during the current step, in order. */
        let events: unknown[] = [];
        let reply: Record<string, unknown> | undefined;
        new jsonrpc.StreamMessageReader(stdout).listen((msg) => {
          if (jsonrpc.Message.isRequest(msg)) {
            // Answered as the Go harness does: the step's reply, else MethodNotFound.
            events.push(msg);
            const answer =
              reply === undefined
                ? { error: { code: -32601, message: `method ${msg.method} not found` } }
                : "error" in reply
                  ? { error: reply.error }
                  : { result: reply };
            void writer.write({ jsonrpc: "2.0", id: msg.id, ...answer } as unknown as jsonrpcTypes.Message);
            return;
          }
          if (jsonrpc.Message.isNotification(msg)) {
            events.push(msg);
            return;
          }
          if (!jsonrpc.Message.isResponse(msg)) {
            return;
          }
          const key = String(msg.id);
          const waiter = waiters.get(key);
          if (waiter) {
            waiter(msg);
          } else {
            responses.set(key, msg);
          }
        });
        const response = (id: number | string): Promise<jsonrpcTypes.Message> => {
          const key = String(id);
          const ready = responses.get(key);
          return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.set(key, resolve));
        };

        for (const [i, step] of golden.steps.entries()) {
          events = [];
          reply = step.reply;
          // Written as is (a string for params included), which a typed sendRequest could not do.
          await writer.write(withEndpoint(step.send) as jsonrpcTypes.Message);
          if (!step.expect) {
            continue;
          }
          assert.ok(step.send.id !== undefined, `step ${i} expects an answer to a message without an id`);
          const got = await withTimeout(response(step.send.id), 5000, `${file} step ${i} (${step.send.method})`);
          assert.deepEqual(events.map(normalize), step.events ?? [], `${file} step ${i} (${step.send.method}): the sidecar's own messages`);
          assert.deepEqual(normalize(got), step.expect, `${file} step ${i} (${step.send.method})`);
        }
        const lastMethod = golden.steps.at(-1)?.send.method;
        if (lastMethod !== "exit") {
          stdin.end(); // end of input ends the sidecar
        }
        const code = await withTimeout(exited, 5000, `${file}: the sidecar's exit`);
        if (lastMethod === "exit") {
          assert.equal(code, 0, "exit after shutdown exits 0");
        }
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill("SIGKILL");
        }
        await exited;
        scratch.remove();
      }
    });
  }
});

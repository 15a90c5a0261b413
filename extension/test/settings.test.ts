import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_REQUEST_TIMEOUT_SECONDS,
  parseSettings,
  sidecarSettings,
} from "../src/settings-values";
import { repoRoot } from "./helpers";

const from = (values: Record<string, unknown>) => parseSettings((key) => values[key]);

describe("parseSettings", () => {
  const cases: { name: string; values: Record<string, unknown>; want: { maxAttempts: number; requestTimeoutSeconds: number } }[] = [
    { name: "defaults", values: {}, want: { maxAttempts: 3, requestTimeoutSeconds: 30 } },
    { name: "in range", values: { maxAttempts: 20, requestTimeoutSeconds: 300 }, want: { maxAttempts: 20, requestTimeoutSeconds: 300 } },
    { name: "lowest", values: { maxAttempts: 1, requestTimeoutSeconds: 1 }, want: { maxAttempts: 1, requestTimeoutSeconds: 1 } },
    { name: "too high", values: { maxAttempts: 21, requestTimeoutSeconds: 301 }, want: { maxAttempts: 3, requestTimeoutSeconds: 30 } },
    { name: "zero", values: { maxAttempts: 0, requestTimeoutSeconds: 0 }, want: { maxAttempts: 3, requestTimeoutSeconds: 30 } },
    { name: "fractional", values: { maxAttempts: 2.5, requestTimeoutSeconds: 10.5 }, want: { maxAttempts: 3, requestTimeoutSeconds: 30 } },
    { name: "strings", values: { maxAttempts: "5", requestTimeoutSeconds: "60" }, want: { maxAttempts: 3, requestTimeoutSeconds: 30 } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const s = from(c.values);
      assert.equal(s.maxAttempts, c.want.maxAttempts);
      assert.equal(s.requestTimeoutSeconds, c.want.requestTimeoutSeconds);
    });
  }
});

test("sidecarSettings sends requestTimeoutSeconds and leaves out empty strings", () => {
  const s = sidecarSettings(from({ requestTimeoutSeconds: 120, region: "  ", endpointUrl: "" }));
  assert.equal(s.requestTimeoutSeconds, 120);
  assert.equal(s.maxAttempts, 3);
  assert.ok(!("region" in s) && !("endpointUrl" in s) && !("profile" in s));
});

test("the defaults and ranges match package.json", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown; minimum?: number; maximum?: number }> } };
  };
  const props = pkg.contributes.configuration.properties;
  const timeout = props["awsflowSts.requestTimeoutSeconds"];
  const attempts = props["awsflowSts.maxAttempts"];
  assert.ok(timeout !== undefined && attempts !== undefined);
  assert.equal(timeout.default, DEFAULT_REQUEST_TIMEOUT_SECONDS);
  assert.equal(attempts.default, DEFAULT_MAX_ATTEMPTS);
  // The bounds parseSettings keeps are exactly package.json's.
  for (const [key, p] of [["requestTimeoutSeconds", timeout], ["maxAttempts", attempts]] as const) {
    assert.ok(p.minimum !== undefined && p.maximum !== undefined);
    assert.equal(from({ [key]: p.minimum })[key], p.minimum);
    assert.equal(from({ [key]: p.maximum })[key], p.maximum);
    assert.equal(from({ [key]: p.maximum + 1 })[key], p.default);
    assert.equal(from({ [key]: p.minimum - 1 })[key], p.default);
  }
});

// The texts around an STSTool call (progress line, confirmation card) against the cases of
// protocol/testdata/texts/cases.json, which the MCP server's Go renderer is checked against too:
// both front ends show the user exactly the same words.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { confirmation, invocationMessage } from "../src/invocation";

interface TextCase {
  command: string;
  params?: Record<string, unknown>;
  invocation: string;
  confirmation?: { title: string; message: string };
}

/** The repository root: the nearest directory above this file that holds protocol/model.json. */
function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "protocol", "model.json"))) return d;
    if (path.dirname(d) === d) throw new Error(`no protocol/model.json above ${dir}`);
  }
}

const file = path.join(process.env.AWSFLOW_STS_ROOT ?? findRoot(__dirname), "protocol", "testdata", "texts", "cases.json");
const cases = (JSON.parse(fs.readFileSync(file, "utf8")) as { cases: TextCase[] }).cases;

test("the shared text cases are there", () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases in ${file}`);
});

for (const c of cases) {
  test(`texts of ${JSON.stringify(c.command).slice(0, 40)} ${JSON.stringify(c.params ?? null).slice(0, 60)}`, () => {
    assert.equal(invocationMessage(c.command, c.params), c.invocation);
    assert.deepEqual(confirmation(c.command, c.params), c.confirmation);
  });
}

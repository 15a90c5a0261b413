// A second, independent MCP client: the MCP Inspector's CLI mode (@modelcontextprotocol/inspector,
// pinned in package.json) spawns `awsflow-sts mcp` against the local STS, lists the tool and calls
// GetCallerIdentity. It runs offline, with no browser.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalSts, repoRoot, scratchDir, sidecarBinary, sidecarSkipReason, startLocalSts } from "../helpers";
import { scratchAws } from "./harness";

const run = promisify(execFile);
/** The inspector's launcher, run with this Node rather than through npx. */
const inspector = path.join(repoRoot, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");

const skip = sidecarSkipReason();

describe("the MCP Inspector CLI against awsflow-sts mcp", { skip, timeout: 60_000 }, () => {
  let sts: LocalSts;
  let scratch: { dir: string; remove(): void };
  let aws: ReturnType<typeof scratchAws>;

  before(async () => {
    sts = await startLocalSts();
    scratch = scratchDir();
    aws = scratchAws(scratch.dir, sts.info);
  });

  after(async () => {
    await sts?.stop();
    scratch?.remove();
  });

  /** Runs `mcp-inspector --cli <options> -- awsflow-sts mcp …` and parses the JSON it prints. */
  const inspect = async (...options: string[]): Promise<unknown> => {
    // The server gets only what -e passes (and the inspector's defaults, like the SDK's PATH and HOME).
    const serverEnv = ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED", "HOME"].flatMap((k) => ["-e", `${k}=${aws.env[k] ?? ""}`]);
    const { stdout } = await run(
      process.execPath,
      [
        inspector,
        "--cli",
        ...options,
        ...serverEnv,
        "--",
        sidecarBinary,
        "mcp",
        "--profile",
        "demo",
        "--region",
        sts.info.region,
        "--endpoint-url",
        sts.info.endpoint,
      ],
      // The inspector's own catalog and config live under HOME: the scratch one.
      { env: { ...aws.env, MCP_CATALOG_PATH: path.join(scratch.dir, "inspector-catalog.json") }, timeout: 30_000, maxBuffer: 4 << 20 },
    );
    return JSON.parse(stdout);
  };

  test("tools/list shows STSTool", async () => {
    const out = (await inspect("--method", "tools/list")) as { tools: { name: string; inputSchema: { properties: Record<string, unknown> } }[] };
    assert.deepEqual(
      out.tools.map((t) => t.name),
      ["STSTool"],
    );
    assert.ok(out.tools[0].inputSchema.properties.command, "the command property");
    assert.ok(out.tools[0].inputSchema.properties.params, "the params property");
  });

  test("tools/call GetCallerIdentity returns the demo identity's ARN", async () => {
    const out = (await inspect("--method", "tools/call", "--tool-name", "STSTool", "--tool-arg", "command=GetCallerIdentity")) as {
      content: { type: string; text: string }[];
      structuredContent?: { arn?: string };
      isError?: boolean;
    };
    assert.notEqual(out.isError, true, JSON.stringify(out));
    const arn = `arn:aws:iam::${sts.info.account}:user/alice`;
    assert.ok(out.content.some((c) => c.type === "text" && c.text.includes(arn)), JSON.stringify(out.content));
    assert.equal(out.structuredContent?.arn, arn);
  });
});

// Shared by the MCP tests: `awsflow-sts mcp` spawned by the official TypeScript SDK's stdio client,
// every message the client received recorded, a TCP endpoint that accepts and never answers, and the
// secret checks. (node --test also loads this file as a test file; it defines no tests.)
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  type ElicitRequest,
  type ElicitResult,
  type JSONRPCMessage,
  type LoggingMessageNotification,
} from "@modelcontextprotocol/sdk/types.js";
import { sidecarBinary, sidecarEnv } from "../helpers";

/**
 * A transport that hands everything to the SDK's StdioClientTransport and keeps a copy of every
 * message in either direction, so a test can search all the server ever said.
 */
export class RecordingTransport implements Transport {
  readonly received: JSONRPCMessage[] = [];
  readonly sent: JSONRPCMessage[] = [];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  protocolVersion?: string;

  constructor(readonly inner: StdioClientTransport) {}

  async start(): Promise<void> {
    this.inner.onmessage = (message) => {
      this.received.push(message);
      this.onmessage?.(message);
    };
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (err) => this.onerror?.(err);
    await this.inner.start();
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    this.sent.push(message);
    await this.inner.send(message);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }
}

/** How the test's elicitation handler answers: a fixed action, or a function of the request. */
export type ElicitPolicy = "accept" | "decline" | "cancel" | ((req: ElicitRequest["params"]) => ElicitResult);

/** A connected MCP client on a running `awsflow-sts mcp`. */
export interface McpRun {
  client: Client;
  transport: RecordingTransport;
  /** Every elicitation/create the server sent, in order. */
  elicitations: ElicitRequest["params"][];
  /** Every notifications/message (log) the server sent. */
  logs: LoggingMessageNotification["params"][];
  /** Everything the server wrote on stderr. */
  stderr: () => string;
  /** Sets how later elicitations are answered. */
  setPolicy(policy: ElicitPolicy): void;
  /** The server's pid. */
  pid: number | null;
  close(): Promise<void>;
}

export interface McpRunOptions {
  /** Arguments after `mcp`. */
  args: string[];
  /** The server's environment (sidecarEnv's scrubbed one). */
  env: NodeJS.ProcessEnv;
  /** Whether the client declares the elicitation capability. */
  elicitation: boolean;
  /** The code the MFA elicitation is answered with. */
  mfaCode?: string;
}

/**
 * The default answer to an elicitation, as a user would give it: yes to a yes/no question (every
 * boolean field true) and the MFA code in a string field.
 */
export function answer(req: ElicitRequest["params"], mfaCode: string): ElicitResult {
  const content: Record<string, string | number | boolean> = {};
  const schema = "requestedSchema" in req ? req.requestedSchema : undefined;
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    switch (prop.type) {
      case "boolean":
        content[name] = true;
        break;
      case "string":
        if ("enum" in prop && Array.isArray(prop.enum)) {
          content[name] = String(prop.enum[0]);
        } else {
          content[name] = mfaCode;
        }
        break;
      case "number":
      case "integer":
        content[name] = Number(mfaCode);
        break;
    }
  }
  return { action: "accept", content };
}

/** Spawns `awsflow-sts mcp` through StdioClientTransport and connects an SDK Client to it. */
export async function startMcp(opts: McpRunOptions): Promise<McpRun> {
  const inner = new StdioClientTransport({
    command: sidecarBinary,
    args: ["mcp", ...opts.args],
    env: opts.env as Record<string, string>,
    stderr: "pipe",
  });
  const errText: string[] = [];
  inner.stderr?.on("data", (chunk: Buffer) => errText.push(chunk.toString("utf8")));
  const transport = new RecordingTransport(inner);
  const client = new Client(
    { name: "awsflow-sts-mcp-test", version: "1.0.0" },
    { capabilities: opts.elicitation ? { elicitation: { form: {} } } : {} },
  );
  const elicitations: ElicitRequest["params"][] = [];
  const logs: LoggingMessageNotification["params"][] = [];
  let policy: ElicitPolicy = "accept";
  const mfaCode = opts.mfaCode ?? "123456";
  if (opts.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      elicitations.push(req.params);
      if (typeof policy === "function") {
        return policy(req.params);
      }
      if (policy === "accept") {
        return answer(req.params, mfaCode);
      }
      return { action: policy };
    });
  }
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  await client.connect(transport);
  return {
    client,
    transport,
    elicitations,
    logs,
    stderr: () => errText.join(""),
    setPolicy: (p) => {
      policy = p;
    },
    pid: inner.pid,
    close: async () => {
      await client.close();
    },
  };
}

/**
 * A scratch AWS setup for the server: a credentials file whose profile "demo" holds the local STS's
 * demo user, a config file giving it the Region, and the environment (sidecarEnv's, HOME moved
 * into the scratch folder) pointing at them.
 */
export function scratchAws(
  dir: string,
  info: { accessKeyId: string; secretAccessKey: string; region: string },
): { env: NodeJS.ProcessEnv; credentials: string; config: string } {
  const env = sidecarEnv(dir);
  const credentials = env.AWS_SHARED_CREDENTIALS_FILE as string;
  const config = env.AWS_CONFIG_FILE as string;
  fs.writeFileSync(credentials, `[demo]\naws_access_key_id = ${info.accessKeyId}\naws_secret_access_key = ${info.secretAccessKey}\n`, {
    mode: 0o600,
  });
  fs.writeFileSync(config, `[profile demo]\nregion = ${info.region}\n`, { mode: 0o600 });
  const home = path.join(dir, "home");
  fs.mkdirSync(home, { recursive: true });
  env.HOME = home;
  return { env, credentials, config };
}

/** A TCP server that accepts connections and never writes a byte: a hung STS endpoint. */
export interface SilentServer {
  url: string;
  /** How many connections it has accepted. */
  accepted(): number;
  /**
   * Resolves with the socket of the next request: the first connection that sends bytes from now
   * on, so the request is in flight (not a connection still being handed to the HTTP client).
   */
  nextRequest(): Promise<net.Socket>;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  let waiters: ((s: net.Socket) => void)[] = [];
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    // Read and drop the request; the first bytes of a connection make it a request in flight.
    s.once("data", () => {
      const ready = waiters;
      waiters = [];
      ready.forEach((w) => w(s));
    });
    s.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => count,
    nextRequest: () => new Promise<net.Socket>((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

/** Resolves when the socket has closed (the peer hung up or it was destroyed). */
export function closed(s: net.Socket): Promise<void> {
  if (s.destroyed || s.closed) {
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => s.once("close", () => resolve()));
}

/** The text of a tools/call result's text content blocks, joined. */
export function textOf(res: { content?: unknown }): string {
  const blocks = Array.isArray(res.content) ? (res.content as { type: string; text?: string }[]) : [];
  return blocks
    .filter((b) => b.type === "text")
    .map((b) => b.text ?? "")
    .join("\n");
}

/**
 * Everything in the given messages and text that looks like a leaked secret: a JSON field named
 * like a secret with a non-empty value, a 40-character AWS secret access key, or a JWT. Returns
 * descriptions of what it found (never the secret itself).
 */
export function secretShapes(haystack: string): string[] {
  const found: string[] = [];
  const field = /"(SecretAccessKey|secretAccessKey|aws_secret_access_key|SessionToken|sessionToken|aws_session_token|WebIdentityToken|webIdentityToken|SAMLAssertion|samlAssertion|TokenCode|tokenCode)"\s*:\s*"([^"]+)"/g;
  for (const m of haystack.matchAll(field)) {
    found.push(`a "${m[1]}" field with a ${m[2].length}-character value`);
  }
  // A secret access key: exactly 40 characters of its alphabet, mixed case and digits, standing alone.
  const key = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
  for (const m of haystack.matchAll(key)) {
    const s = m[0];
    if (/[a-z]/.test(s) && /[A-Z]/.test(s) && /[0-9]/.test(s)) {
      found.push(`a 40-character secret-key-like string ${s.slice(0, 3)}…`);
    }
  }
  const jwt = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
  for (const m of haystack.matchAll(jwt)) {
    found.push(`a JWT ${m[0].slice(0, 6)}…`);
  }
  return found;
}

/** The secret values the [profile] sections of a credentials file hold (keys and tokens). */
export function credentialsFileSecrets(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = "";
  for (const raw of fs.readFileSync(file, "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1];
      continue;
    }
    const kv = /^(aws_secret_access_key|aws_session_token)\s*=\s*(.+)$/.exec(line);
    if (kv && section) {
      out.set(section, [...(out.get(section) ?? []), kv[2].trim()]);
    }
  }
  return out;
}

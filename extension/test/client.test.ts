// SidecarClient against a fake sidecar written with vscode-jsonrpc, over in-memory streams.
import { test, describe, afterEach } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import type * as jsonrpcTypes from "vscode-jsonrpc/lib/node/main";
import { CLIENT_ERROR_CODES, SidecarClient, SidecarError } from "../src/client";
import { ERROR_CODES, InitializeResult, InvokeParams, PROTOCOL_VERSION } from "../src/protocol.gen";
import { jsonrpc, rejection, withTimeout } from "./helpers";

interface Wire {
  client: SidecarClient;
  server: jsonrpcTypes.MessageConnection;
  /** Every message the client sent, as the server read it off the wire. */
  sent: jsonrpcTypes.Message[];
  /** Ends the server side, as a sidecar that exits does. */
  hangUp(): void;
  /** Resolves when the server has received a tool/invoke of this command. */
  received(command: string): Promise<void>;
}

const open: Wire[] = [];

function wire(opts: { protocolVersion?: number; cancelGraceMs?: number; client?: Parameters<typeof SidecarClient.connect>[2] } = {}): Wire {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const client = SidecarClient.connect(toClient, toServer, { cancelGraceMs: opts.cancelGraceMs, ...opts.client });
  const server = jsonrpc.createMessageConnection(new jsonrpc.StreamMessageReader(toServer), new jsonrpc.StreamMessageWriter(toClient));
  const sent: jsonrpcTypes.Message[] = [];
  const arrivals: { command: string; resolve: () => void }[] = [];
  // A second reader on the same stream sees the raw messages, $/cancelRequest included.
  new jsonrpc.StreamMessageReader(toServer).listen((msg) => sent.push(msg));

  server.onRequest("initialize", (): InitializeResult => ({
    serverInfo: { name: "fake", version: "0.0.0" },
    protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION,
    commands: ["GetCallerIdentity"],
  }));
  server.onRequest("tool/invoke", async (params: InvokeParams, token: jsonrpcTypes.CancellationToken) => {
    arrivals.filter((a) => a.command === params.command).forEach((a) => a.resolve());
    switch (params.command) {
      case "Ok":
        return { text: `ok ${JSON.stringify(params.params ?? null)}`, data: { command: "Ok" } };
      case "Denied":
        throw new jsonrpc.ResponseError(1001, "User is not authorized to perform sts:AssumeRole", {
          kind: "aws",
          awsCode: "AccessDenied",
          requestId: "req-1",
          hint: "Check the trust policy.",
        });
      case "NoData":
        throw new jsonrpc.ResponseError(-32603, "a bug");
      case "Slow":
        // Like the sidecar: runs until cancelled, then answers RequestCancelled.
        await new Promise<void>((resolve) => token.onCancellationRequested(() => resolve()));
        throw new jsonrpc.ResponseError(ERROR_CODES.RequestCancelled, "the call was cancelled", { kind: "cancelled" });
      case "Hang":
        return new Promise(() => undefined);
      default:
        throw new jsonrpc.ResponseError(-32602, `no command ${params.command}`, { kind: "validation" });
    }
  });
  server.onRequest("sessions/list", () => ({ sessions: [], active: "base" }));
  server.onRequest("sessions/use", (p: { name: string }) => ({ sessions: [], active: p.name }));
  server.listen();

  const w: Wire = {
    client,
    server,
    sent,
    hangUp: () => {
      toClient.end();
      toClient.destroy();
    },
    received: (command) => new Promise<void>((resolve) => arrivals.push({ command, resolve })),
  };
  open.push(w);
  return w;
}

afterEach(() => {
  for (const w of open.splice(0)) {
    w.client.dispose();
    w.server.dispose();
  }
});

function requests(sent: jsonrpcTypes.Message[]): jsonrpcTypes.RequestMessage[] {
  return sent.filter((m): m is jsonrpcTypes.RequestMessage => jsonrpc.Message.isRequest(m));
}

function notifications(sent: jsonrpcTypes.Message[]): jsonrpcTypes.NotificationMessage[] {
  return sent.filter((m): m is jsonrpcTypes.NotificationMessage => jsonrpc.Message.isNotification(m));
}

/** A cancellation source as VS Code hands one to a tool. */
function cancellation(): jsonrpcTypes.CancellationTokenSource {
  return new jsonrpc.CancellationTokenSource();
}

describe("SidecarClient", () => {
  test("initialize, invoke and the session methods succeed", async () => {
    const { client, sent } = wire();
    const init = await client.initialize({ name: "test", version: "1" }, { region: "us-east-1" });
    assert.equal(init.protocolVersion, PROTOCOL_VERSION);
    assert.deepEqual(init.commands, ["GetCallerIdentity"]);

    const res = await client.invoke("Ok", { RoleArn: "x" });
    assert.equal(res.text, 'ok {"RoleArn":"x"}');
    assert.deepEqual(res.data, { command: "Ok" });
    assert.equal((await client.invoke("Ok")).text, "ok null");
    assert.deepEqual(await client.listSessions(), { sessions: [], active: "base" });
    assert.equal((await client.useSession("dev")).active, "dev");

    const initMsg = requests(sent).find((m) => m.method === "initialize");
    assert.ok(initMsg);
    assert.deepEqual(initMsg.params, { clientInfo: { name: "test", version: "1" }, settings: { region: "us-east-1" } });
    const noParams = requests(sent).find((m) => m.method === "sessions/list");
    assert.ok(noParams);
    assert.equal(noParams.params, undefined, "methods without params send none");
  });

  test("a JSON-RPC error becomes a SidecarError with its code and data", async () => {
    const { client } = wire();
    const err = await rejection(client.invoke("Denied", {}));
    assert.equal(err.code, 1001);
    assert.equal(err.message, "User is not authorized to perform sts:AssumeRole");
    assert.equal(err.kind, "aws");
    assert.deepEqual(err.data, { kind: "aws", awsCode: "AccessDenied", requestId: "req-1", hint: "Check the trust policy." });

    const bare = await rejection(client.invoke("NoData"));
    assert.equal(bare.code, -32603);
    assert.equal(bare.data, undefined);
    assert.equal(bare.kind, "internal");
  });

  test("cancelling sends $/cancelRequest for that call's id and rejects with RequestCancelled", async () => {
    const { client, sent, received } = wire();
    await client.invoke("Ok"); // so the slow call's id is not the first one
    const source = cancellation();
    const arrived = received("Slow");
    const call = client.invoke("Slow", {}, source.token);
    await arrived;
    source.cancel();
    const err = await withTimeout(rejection(call), 1000, "the cancelled call");
    assert.equal(err.code, ERROR_CODES.RequestCancelled);
    assert.equal(err.kind, "cancelled");

    const request = requests(sent).find((m) => m.method === "tool/invoke" && (m.params as InvokeParams).command === "Slow");
    assert.ok(request);
    const cancels = notifications(sent).filter((m) => m.method === "$/cancelRequest");
    assert.deepEqual(
      cancels.map((c) => c.params),
      [{ id: request.id }],
    );
  });

  test("an already-cancelled token still sends the call, then cancels it", async () => {
    const { client, sent } = wire();
    const source = cancellation();
    source.cancel();
    const err = await withTimeout(rejection(client.invoke("Slow", {}, source.token)), 1000, "the pre-cancelled call");
    assert.equal(err.kind, "cancelled");
    assert.ok(notifications(sent).some((m) => m.method === "$/cancelRequest"));
  });

  test("a cancelled call the sidecar never answers is given up after the grace period", async () => {
    const { client, received } = wire({ cancelGraceMs: 50 });
    const source = cancellation();
    const arrived = received("Hang");
    const call = client.invoke("Hang", {}, source.token);
    await arrived;
    source.cancel();
    const err = await withTimeout(rejection(call), 1000, "the hung cancelled call");
    assert.equal(err.code, ERROR_CODES.RequestCancelled);
    assert.equal(err.kind, "cancelled");
  });

  test("a sidecar of another protocol version is refused at the handshake", async () => {
    const { client } = wire({ protocolVersion: PROTOCOL_VERSION + 1 });
    const err = await rejection(client.initialize({ name: "t" }, {}));
    assert.equal(err.code, CLIENT_ERROR_CODES.VersionMismatch);
    assert.equal(err.kind, "protocol");
    assert.match(err.message, new RegExp(`protocol version ${PROTOCOL_VERSION + 1} but this extension speaks version ${PROTOCOL_VERSION}`));
  });

  test("a disconnect rejects calls in flight and later calls with kind disconnected", async () => {
    const { client, hangUp, received } = wire();
    const closes: (Error | undefined)[] = [];
    client.onClose((err) => closes.push(err));
    const arrived = received("Hang");
    const call = client.invoke("Hang", {});
    const list = client.listSessions();
    await arrived;
    await list;
    hangUp();
    const err = await withTimeout(rejection(call), 1000, "the in-flight call");
    assert.equal(err.code, -32099);
    assert.equal(err.kind, "disconnected");
    assert.equal(err.message, "the awsflow-sts sidecar stopped while handling tool/invoke; it will be restarted on the next call");

    const later = await rejection(client.listSessions());
    assert.equal(later.kind, "disconnected");
    assert.match(later.message, /while handling sessions\/list/);
    assert.equal(closes.length, 1, "onClose fires once");

    let lateListener = 0;
    client.onClose(() => lateListener++);
    assert.equal(lateListener, 1, "a listener added after the close is called at once");
  });

  test("dispose rejects calls in flight", async () => {
    const { client, received } = wire();
    const arrived = received("Hang");
    const call = client.invoke("Hang");
    await arrived;
    client.dispose();
    assert.equal((await rejection(call)).kind, "disconnected");
  });

  test("shutdown sends the shutdown request, then the exit notification", async () => {
    const { client, server, sent } = wire();
    server.onRequest("shutdown", () => null);
    const exited = new Promise<void>((resolve) => server.onNotification("exit", () => resolve()));
    await client.shutdown();
    await withTimeout(exited, 1000, "exit");
    const methods = sent.filter((m) => jsonrpc.Message.isRequest(m) || jsonrpc.Message.isNotification(m)).map((m) => (m as { method: string }).method);
    assert.deepEqual(methods.slice(-2), ["shutdown", "exit"]);
  });

  test("forwards the sidecar's notifications and requests", async () => {
    const notes: [string, unknown][] = [];
    const { server } = wire({
      client: {
        onNotification: (method, params) => notes.push([method, params]),
        onRequest: async (method, params) => ({ echoed: method, params }),
      },
    });
    await server.sendNotification("window/logMessage", { message: "hi" });
    const answer = await server.sendRequest("client/ping", { n: 1 });
    assert.deepEqual(answer, { echoed: "client/ping", params: { n: 1 } });
    assert.deepEqual(notes, [["window/logMessage", { message: "hi" }]]);
  });

  test("a SidecarError from the request handler reaches the sidecar with its code, message and data", async () => {
    const { server } = wire({
      client: {
        onRequest: async () => {
          throw new SidecarError("MFA code entry was cancelled", ERROR_CODES.RequestCancelled, { kind: "cancelled" });
        },
      },
    });
    const err = await server.sendRequest("mfa/tokenCode", { serialNumber: "arn:aws:iam::123456789012:mfa/alice", reason: "r" }).then(
      () => assert.fail("expected an error answer"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof jsonrpc.ResponseError);
    assert.equal(err.code, ERROR_CODES.RequestCancelled);
    assert.equal(err.message, "MFA code entry was cancelled");
    assert.deepEqual(err.data, { kind: "cancelled" });
  });

  test("the request handler's token is cancelled by the sidecar's $/cancelRequest", async () => {
    let cancelledInHandler = false;
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const { server } = wire({
      client: {
        onRequest: (_method, _params, token) =>
          new Promise((_, reject) => {
            entered();
            token.onCancellationRequested(() => {
              cancelledInHandler = true;
              reject(new SidecarError("MFA code entry was cancelled", ERROR_CODES.RequestCancelled, { kind: "cancelled" }));
            });
          }),
      },
    });
    const source = new jsonrpc.CancellationTokenSource();
    const answer = server.sendRequest("mfa/tokenCode", { serialNumber: "s", reason: "r" }, source.token).catch((e: unknown) => e);
    await withTimeout(inHandler, 1000, "the handler");
    source.cancel();
    const err = await withTimeout(answer, 1000, "the cancelled request");
    assert.equal(cancelledInHandler, true);
    assert.ok(err instanceof jsonrpc.ResponseError);
    assert.equal(err.code, ERROR_CODES.RequestCancelled);
  });

  test("importSessions and writeProfile send their params under the contract's method names", async () => {
    const { client, server, sent } = wire();
    server.onRequest("sessions/import", (p: { sessions: unknown[]; active?: string }) => ({
      imported: ["dev"],
      skipped: [],
      list: { sessions: [], active: p.active ?? "base" },
    }));
    server.onRequest("sessions/writeProfile", (p: { profile: string; path?: string }) => ({ path: p.path ?? "/c", profile: p.profile, created: true }));
    const session = { name: "dev", kind: "credentials", command: "AssumeRole", expiration: "2030-01-01T00:00:00Z" };
    const imported = await client.importSessions({ sessions: [session], active: "dev" });
    assert.deepEqual(imported, { imported: ["dev"], skipped: [], list: { sessions: [], active: "dev" } });
    const written = await client.writeProfile({ name: "dev", profile: "p", path: "/tmp/creds", overwriteLongTermKeys: true });
    assert.deepEqual(written, { path: "/tmp/creds", profile: "p", created: true });
    const methods = requests(sent).map((m) => [m.method, m.params]);
    assert.deepEqual(methods.slice(-2), [
      ["sessions/import", { sessions: [session], active: "dev" }],
      ["sessions/writeProfile", { name: "dev", profile: "p", path: "/tmp/creds", overwriteLongTermKeys: true }],
    ]);
  });
});

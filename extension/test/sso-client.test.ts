// The IAM Identity Center methods of SidecarClient against a fake sidecar over in-memory streams: the
// sso/authorize request in the middle of sso/login, a cancelled sign-in reaching the sidecar as
// $/cancelRequest, and a SignInRequired error keeping the sign-in it names.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { PassThrough } from "node:stream";
import type * as jsonrpcTypes from "vscode-jsonrpc/lib/node/main";
import { SidecarClient, SidecarError } from "../src/client";
import { ERROR_CODES, METHODS, type SsoAuthorizeParams, type SsoLoginParams } from "../src/protocol.gen";
import { jsonrpc, withTimeout } from "./helpers";

interface Wire {
  client: SidecarClient;
  server: jsonrpcTypes.MessageConnection;
  sent: jsonrpcTypes.Message[];
}

const open: Wire[] = [];

afterEach(() => {
  for (const w of open.splice(0)) {
    w.client.dispose();
    w.server.dispose();
  }
});

const AUTHORIZE: SsoAuthorizeParams = {
  ssoSession: "work",
  startUrl: "https://work.awsapps.com/start",
  verificationUri: "https://device.example/",
  verificationUriComplete: "https://device.example/?user_code=ABCD-EFGH",
  userCode: "ABCD-EFGH",
  expiresAt: "2030-01-01T00:10:00Z",
};

/** A fake sidecar whose sso/login asks the client to show the code, then waits for approved() or a cancel. */
function wire(onRequest: (method: string, params: unknown) => Promise<unknown>): Wire & { approve(): void; authorizeAnswer: Promise<unknown> } {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const client = SidecarClient.connect(toClient, toServer, { cancelGraceMs: 5000, onRequest: (m, p) => onRequest(m, p) });
  const server = jsonrpc.createMessageConnection(new jsonrpc.StreamMessageReader(toServer), new jsonrpc.StreamMessageWriter(toClient));
  const sent: jsonrpcTypes.Message[] = [];
  new jsonrpc.StreamMessageReader(toServer).listen((msg) => sent.push(msg));
  let approve!: () => void;
  const approved = new Promise<void>((r) => (approve = r));
  let answered!: (v: unknown) => void;
  const authorizeAnswer = new Promise<unknown>((r) => (answered = r));
  server.onRequest(METHODS.ssoLogin, async (params: SsoLoginParams, token: jsonrpcTypes.CancellationToken) => {
    try {
      answered(await server.sendRequest(METHODS.ssoAuthorize, { ...AUTHORIZE, ssoSession: params.ssoSession ?? "work" }));
    } catch (err) {
      // Like the sidecar: an error answer ends the sign-in.
      answered({ error: err });
      throw err;
    }
    const cancelled = new Promise<"cancelled">((r) => token.onCancellationRequested(() => r("cancelled")));
    if ((await Promise.race([approved.then(() => "ok" as const), cancelled])) === "cancelled") {
      throw new jsonrpc.ResponseError(ERROR_CODES.RequestCancelled, "the sign-in was cancelled", { kind: "cancelled" });
    }
    return { ssoSession: "work", startUrl: AUTHORIZE.startUrl, region: "us-east-1", expiresAt: "2030-01-01T08:00:00Z" };
  });
  server.onRequest(METHODS.ssoAccounts, () => {
    throw new jsonrpc.ResponseError(ERROR_CODES.SignInRequired, "the IAM Identity Center sign-in work has expired", { kind: "signin", ssoSession: "work", hint: "Sign in." });
  });
  server.onRequest(METHODS.credentialsEndpoint, () => ({ url: "http://127.0.0.1:9/", authorizationToken: "t" }));
  server.listen();
  const w = { client, server, sent, approve, authorizeAnswer };
  open.push(w);
  return w;
}

function cancelsOf(sent: jsonrpcTypes.Message[]): unknown[] {
  return sent
    .filter((m): m is jsonrpcTypes.NotificationMessage => jsonrpc.Message.isNotification(m) && m.method === "$/cancelRequest")
    .map((m) => (m.params as { id: unknown }).id);
}

describe("SidecarClient and IAM Identity Center", () => {
  test("sso/login: the client answers sso/authorize with null at once, and the login ends when approved", async () => {
    const shown: unknown[] = [];
    const w = wire(async (method, params) => {
      assert.equal(method, METHODS.ssoAuthorize);
      shown.push(params);
      return null;
    });
    const login = w.client.ssoLogin({ ssoSession: "work" });
    // Answered while the login is still waiting for approval.
    assert.equal(await withTimeout(w.authorizeAnswer, 5000, "the sso/authorize answer"), null);
    assert.deepEqual(shown, [AUTHORIZE]);
    w.approve();
    const result = await withTimeout(login, 5000, "sso/login");
    assert.equal(result.ssoSession, "work");
    assert.deepEqual(cancelsOf(w.sent), []);
  });

  test("cancelling the sign-in sends $/cancelRequest for the sso/login call, which then ends as cancelled", async () => {
    const w = wire(async () => null);
    const cts = new jsonrpc.CancellationTokenSource();
    const login = w.client.ssoLogin({ ssoSession: "work" }, cts.token);
    await withTimeout(w.authorizeAnswer, 5000, "the sso/authorize answer");
    cts.cancel();
    const err = await withTimeout(
      login.then(
        () => undefined,
        (e: unknown) => e,
      ),
      5000,
      "the cancelled sso/login",
    );
    assert.ok(err instanceof SidecarError, String(err));
    assert.equal(err.code, ERROR_CODES.RequestCancelled);
    const loginId = w.sent.find((m) => jsonrpc.Message.isRequest(m) && m.method === METHODS.ssoLogin) as jsonrpcTypes.RequestMessage;
    assert.deepEqual(cancelsOf(w.sent), [loginId.id]);
  });

  test("an error answer to sso/authorize reaches the sidecar with its code (the sign-in ends there)", async () => {
    const w = wire(async () => {
      throw new SidecarError("no sign-in was started in VS Code", ERROR_CODES.RequestCancelled, { kind: "cancelled" });
    });
    const login = w.client.ssoLogin({ ssoSession: "work" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const answer = (await withTimeout(w.authorizeAnswer, 5000, "the sso/authorize answer")) as { error?: unknown };
    assert.ok(answer.error instanceof jsonrpc.ResponseError, `the sidecar got ${JSON.stringify(answer)}`);
    assert.equal(answer.error.code, ERROR_CODES.RequestCancelled);
    assert.equal(answer.error.message, "no sign-in was started in VS Code");
    const err = await withTimeout(login, 5000, "sso/login");
    assert.ok(err instanceof SidecarError);
    assert.equal(err.code, ERROR_CODES.RequestCancelled);
  });

  test("SignInRequired keeps its kind and the sign-in it names", async () => {
    const w = wire(async () => null);
    const err = await w.client.ssoAccounts("work").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof SidecarError);
    assert.equal(err.code, ERROR_CODES.SignInRequired);
    assert.equal(err.kind, "signin");
    assert.equal(err.data?.ssoSession, "work");
    assert.equal((await w.client.credentialsEndpoint()).url, "http://127.0.0.1:9/");
  });
});

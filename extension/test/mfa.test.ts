// mfa/tokenCode through the Supervisor's onRequest against the real sidecar and the local STS: the
// code answers the waiting call, an error answer cancels it, and a cancelled tool call cancels the
// request the handler is answering (the extension closes its input box on that token).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { SidecarError, type CancellationLike } from "../src/client";
import { ERROR_CODES, type MfaTokenCodeParams } from "../src/protocol.gen";
import { Supervisor } from "../src/supervisor";
import { jsonrpc, LocalSts, rejection, scratchDir, sidecarSkipReason, startLocalSts, withTimeout , localSupervisor } from "./helpers";

const skip = sidecarSkipReason();

type Answer = (params: MfaTokenCodeParams, token: CancellationLike) => Promise<unknown>;

describe("mfa/tokenCode with the real sidecar", { skip, timeout: 60_000 }, () => {
  let sts: LocalSts;
  let scratch: { dir: string; remove(): void };
  let supervisor: Supervisor;
  let answer: Answer = async () => ({ tokenCode: "123456" });
  const asked: MfaTokenCodeParams[] = [];
  const serial = (user: string): string => `arn:aws:iam::${sts.info.account}:mfa/${user}`;

  before(async () => {
    sts = await startLocalSts();
    scratch = scratchDir();
    supervisor = localSupervisor("mfa-test", sts, scratch.dir, {
      log: () => undefined,
      onRequest: async (method, params, token) => {
        assert.equal(method, "mfa/tokenCode");
        asked.push(params as MfaTokenCodeParams);
        return answer(params as MfaTokenCodeParams, token);
      },
    });
  });

  after(async () => {
    await supervisor?.stop();
    await sts?.stop();
    scratch?.remove();
  });

  test("the code answers the call that asked for it", async () => {
    const client = await supervisor.client();
    const res = await withTimeout(client.invoke("GetSessionToken", { SerialNumber: serial("alice"), SessionName: "mfa" }), 15_000, "GetSessionToken");
    assert.match(res.text, /stored as session `mfa`/);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].serialNumber, serial("alice"));
    assert.equal(asked[0].command, "GetSessionToken");
    assert.match(asked[0].reason, /code/);
    assert.ok(!JSON.stringify(res).includes(`"123456"`), "the code is not echoed");
  });

  test("an error answer (the box was dismissed) cancels the call", async () => {
    answer = async () => {
      throw new SidecarError("MFA code entry was cancelled", ERROR_CODES.RequestCancelled, { kind: "cancelled" });
    };
    const client = await supervisor.client();
    const err = await withTimeout(rejection(client.invoke("GetSessionToken", { SerialNumber: serial("bob") })), 15_000, "GetSessionToken");
    assert.equal(err.kind, "cancelled");
    assert.match(err.message, /no MFA code was entered/);
  });

  test("cancelling the tool call cancels the pending mfa/tokenCode", async () => {
    let sawCancel!: () => void;
    const cancelled = new Promise<void>((resolve) => (sawCancel = resolve));
    let entered!: () => void;
    const inPrompt = new Promise<void>((resolve) => (entered = resolve));
    answer = (_params, token) =>
      new Promise((_, reject) => {
        entered();
        token.onCancellationRequested(() => {
          sawCancel();
          reject(new SidecarError("MFA code entry was cancelled", ERROR_CODES.RequestCancelled, { kind: "cancelled" }));
        });
      });
    const client = await supervisor.client();
    const source = new jsonrpc.CancellationTokenSource();
    const call = rejection(client.invoke("GetSessionToken", { SerialNumber: serial("bob"), SessionName: "never" }, source.token));
    await withTimeout(inPrompt, 10_000, "the MFA request");
    source.cancel();
    await withTimeout(cancelled, 5000, "the $/cancelRequest for mfa/tokenCode reaching the handler's token");
    assert.equal((await withTimeout(call, 5000, "the cancelled call")).kind, "cancelled");
    assert.ok(!(await client.listSessions()).sessions.some((s) => s.name === "never"));
  });
});

// The gate in front of STSTool calls (tool.ts's prepareInvocation): the confirmation card appears
// exactly when awsflowSts.confirmCredentialCommands is on and the command mints credentials or a
// token; the progress line is shown either way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { confirmation, invocationMessage } from "../src/invocation";
import { prepareTexts, readInput } from "../src/prepare";
import { COMMANDS } from "../src/protocol.gen";

const minting = COMMANDS.filter((c) => c.mints !== "").map((c) => c.name);
const notMinting = COMMANDS.filter((c) => c.mints === "").map((c) => c.name);

test("the contract has commands on both sides of the gate", () => {
  assert.ok(minting.includes("AssumeRole") && minting.includes("GetWebIdentityToken"), minting.join(","));
  assert.ok(notMinting.includes("GetCallerIdentity") && notMinting.includes("ListSessions"), notMinting.join(","));
});

test("setting on: every minting command gets its confirmation card", () => {
  for (const command of minting) {
    const params = { SessionName: "dev", RoleArn: "arn:aws:iam::123456789012:role/Dev" };
    const got = prepareTexts({ command, params }, true);
    assert.equal(got.invocationMessage, invocationMessage(command, params), command);
    assert.ok(got.confirmation, `${command}: no card with the setting on`);
    assert.deepEqual(got.confirmation, confirmation(command, params), command);
    assert.notEqual(got.confirmation.title, "", command);
  }
});

test("setting off: no minting command asks, and the progress line is unchanged", () => {
  for (const command of minting) {
    const params = { SessionName: "dev" };
    const got = prepareTexts({ command, params }, false);
    assert.equal(got.confirmation, undefined, `${command}: card shown with the setting off`);
    assert.equal(got.invocationMessage, invocationMessage(command, params), command);
  }
});

test("commands that mint nothing never ask, setting on or off", () => {
  for (const command of notMinting) {
    for (const on of [true, false]) {
      const got = prepareTexts({ command, params: { SessionName: "dev" } }, on);
      assert.equal(got.confirmation, undefined, `${command} (setting ${on ? "on" : "off"})`);
    }
  }
});

test("the card names what is assumed and never echoes a secret parameter", () => {
  const params = {
    RoleArn: "arn:aws:iam::123456789012:role/Admin",
    SerialNumber: "arn:aws:iam::123456789012:mfa/alice",
    TokenCode: "918273",
    SessionName: "admin",
  };
  const got = prepareTexts({ command: "AssumeRole", params }, true);
  assert.ok(got.confirmation);
  assert.match(got.confirmation.message, /role\/Admin/);
  assert.match(got.confirmation.message, /mfa\/alice/);
  assert.ok(!got.confirmation.message.includes("918273"), got.confirmation.message);
  assert.ok(!got.invocationMessage.includes("918273"), got.invocationMessage);
});

test("hostile input: no command, a non-string command, array or null params", () => {
  const inputs: unknown[] = [
    undefined,
    {},
    { command: 42 },
    { command: ["AssumeRole"] },
    { command: "AssumeRole", params: ["RoleArn"] },
    { command: "AssumeRole", params: null },
    { command: "NoSuchCommand", params: {} },
    { command: "assumerole" },
  ];
  for (const input of inputs) {
    const got = prepareTexts(input as Parameters<typeof prepareTexts>[0], true);
    assert.equal(typeof got.invocationMessage, "string");
    const { command } = readInput(input as Parameters<typeof readInput>[0]);
    // Only a real minting command, named exactly, asks; params of the wrong shape are dropped.
    assert.equal(got.confirmation !== undefined, command === "AssumeRole", JSON.stringify(input));
  }
  assert.deepEqual(readInput({ command: "AssumeRole", params: ["x"] }), { command: "AssumeRole", params: undefined });
  assert.deepEqual(readInput({ command: 1, params: { a: 1 } }), { command: "", params: { a: 1 } });
});

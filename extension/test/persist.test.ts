// SessionVault over an in-memory SecretStore: concurrent updates, the expiry filter, a corrupt stored
// value, forgetting, and that no log line carries a secret.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { SecretStore, SessionVault, VAULT_KEY } from "../src/persist";
import type { ExportedSession } from "../src/protocol.gen";

const NOW = Date.parse("2030-01-01T00:00:00Z");
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

/** A Map with a delay on every call, so interleavings a real keychain would allow actually happen. */
class MemoryStore implements SecretStore {
  readonly values = new Map<string, string>();
  calls: string[] = [];
  failNext: Error | undefined;

  private async tick(call: string): Promise<void> {
    this.calls.push(call);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    const err = this.failNext;
    this.failNext = undefined;
    if (err) throw err;
  }

  async get(key: string): Promise<string | undefined> {
    await this.tick("get");
    return this.values.get(key);
  }

  async store(key: string, value: string): Promise<void> {
    await this.tick("store");
    this.values.set(key, value);
  }

  async delete(key: string): Promise<void> {
    await this.tick("delete");
    this.values.delete(key);
  }
}

const session = (name: string, over: Partial<ExportedSession> = {}): ExportedSession => ({
  name,
  kind: "credentials",
  command: "AssumeRole",
  accessKeyId: `ASIA${name.toUpperCase().padEnd(16, "X")}`,
  secretAccessKey: SECRET,
  sessionToken: `token-of-${name}`,
  expiration: "2030-01-01T01:00:00Z",
  ...over,
});

function vault(store = new MemoryStore()): { store: MemoryStore; vault: SessionVault; logs: string[] } {
  const logs: string[] = [];
  return { store, vault: new SessionVault(store, { log: (l) => logs.push(l), now: () => NOW }), logs };
}

describe("SessionVault", () => {
  test("save, load and the active session round-trip exactly what export returned", async () => {
    const { vault: v } = vault();
    const dev = session("dev", { recipe: { command: "AssumeRole", params: { RoleArn: "arn:aws:iam::123456789012:role/Dev", RoleSessionName: "dev" }, source: "base" } });
    await v.save(dev);
    await v.save(session("mfa", { command: "GetSessionToken", mfaSerial: "arn:aws:iam::123456789012:mfa/alice" }));
    await v.setActive("dev");
    const loaded = await v.load(NOW);
    assert.deepEqual(loaded.active, "dev");
    assert.deepEqual(
      loaded.sessions.map((s) => s.name),
      ["dev", "mfa"],
    );
    assert.deepEqual(loaded.sessions[0], dev);
  });

  test("concurrent updates are never lost", async () => {
    const { vault: v } = vault();
    const names = Array.from({ length: 25 }, (_, i) => `s${i}`);
    await Promise.all([...names.map((n) => v.save(session(n))), v.setActive("s3"), v.remove("s7"), v.save(session("late"))]);
    const { sessions, active } = await v.load(NOW);
    assert.deepEqual(
      sessions.map((s) => s.name).sort(),
      [...names.filter((n) => n !== "s7"), "late"].sort(),
    );
    assert.equal(active, "s3");
  });

  test("load leaves out expired sessions, and an active session that is not loaded", async () => {
    const { vault: v } = vault();
    await v.save(session("old", { expiration: "2030-01-01T00:30:00Z" }));
    await v.save(session("live"));
    await v.setActive("old");
    const later = await v.load(Date.parse("2030-01-01T00:45:00Z"));
    assert.deepEqual(
      later.sessions.map((s) => s.name),
      ["live"],
    );
    assert.equal(later.active, undefined);
    assert.equal((await v.load(NOW)).active, "old", "before it expired it was the default");
  });

  test("writes drop expired sessions; an empty vault is deleted, not stored", async () => {
    const { vault: v, store } = vault();
    await v.save(session("gone", { expiration: "2029-12-31T23:00:00Z" }));
    assert.equal(store.values.has(VAULT_KEY), false);
    await v.save(session("dev"));
    assert.ok(store.values.has(VAULT_KEY));
    await v.remove("dev");
    assert.equal(store.values.has(VAULT_KEY), false);
  });

  test("forgetting a session removes it and clears it as the default", async () => {
    const { vault: v, store } = vault();
    await v.save(session("dev"));
    await v.save(session("mfa"));
    await v.setActive("dev");
    await v.remove("dev");
    const { sessions, active } = await v.load(NOW);
    assert.deepEqual(
      sessions.map((s) => s.name),
      ["mfa"],
    );
    assert.equal(active, undefined);
    assert.doesNotMatch(store.values.get(VAULT_KEY) ?? "", /"dev"/);
    await v.setActive("base");
    assert.equal((await v.load(NOW)).active, undefined, "base is no stored session");
  });

  test("clear removes everything", async () => {
    const { vault: v, store } = vault();
    await v.save(session("dev"));
    await v.clear();
    assert.equal(store.values.size, 0);
    assert.deepEqual(await v.load(NOW), { sessions: [] });
  });

  test("a corrupt value is discarded with a reason, never thrown, and never quoted in the log", async () => {
    for (const raw of [`{"sessions": {"dev": {"secretAccessKey": "${SECRET}"`, `["${SECRET}"]`, `{"sessions": "${SECRET}"}`, "null"]) {
      const { vault: v, store, logs } = vault();
      store.values.set(VAULT_KEY, raw);
      assert.deepEqual(await v.load(NOW), { sessions: [] }, raw);
      assert.equal(logs.length, 1, raw);
      assert.match(logs[0], /^discarded the stored sessions: /);
      assert.ok(!logs.join("\n").includes(SECRET));
      assert.equal(store.values.has(VAULT_KEY), false, "the corrupt value is deleted");
      await v.save(session("dev"));
      assert.deepEqual(
        (await v.load(NOW)).sessions.map((s) => s.name),
        ["dev"],
        "the vault works again",
      );
    }
  });

  test("malformed entries are dropped one by one; the others survive", async () => {
    const { vault: v, store, logs } = vault();
    store.values.set(
      VAULT_KEY,
      JSON.stringify({
        active: "dev",
        sessions: {
          dev: session("dev"),
          nokind: { ...session("nokind"), kind: undefined },
          renamed: session("other"),
          junk: 42,
        },
      }),
    );
    const { sessions, active } = await v.load(NOW);
    assert.deepEqual(
      sessions.map((s) => s.name),
      ["dev"],
    );
    assert.equal(active, "dev");
    assert.deepEqual(logs, [
      'discarded a stored session: "nokind" has no kind',
      'discarded a stored session: "renamed" is stored under another name',
      'discarded a stored session: "junk" is not an object',
    ]);
  });

  test("a failing keychain rejects that call only; the queue goes on", async () => {
    const { vault: v, store } = vault();
    store.failNext = new Error("keychain locked");
    await assert.rejects(v.save(session("dev")), /keychain locked/);
    await v.save(session("mfa"));
    assert.deepEqual(
      (await v.load(NOW)).sessions.map((s) => s.name),
      ["mfa"],
    );
  });
});
